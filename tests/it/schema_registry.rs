//! The Schema Registry client against the local stack's registry (Apicurio 3 behind nginx: HTTPS and
//! Basic auth, Confluent's REST paths). Run `eval "$(scripts/local-stack.sh env)"` first.
//!
//! The producer follows Confluent's documented behaviour. Where Apicurio's Confluent-compatibility
//! layer could answer differently (re-registering identical content, `GET /schemas/ids/{id}` for
//! Protobuf), the test prints what this server did and asserts what Confluent guarantees.
//!
//! Every test uses its own topic name (random suffix), so the tests run in parallel without sharing a
//! subject — except the record strategy, whose subject `main.Shoe` has no topic in it.

use crate::support::engine as engine_support;

use engine_support::{registry_http_client, registry_request, registry_settings};
use shoe_producer::{
    registry::{resolve_schema, subject_name, RegistryError, Resolution, SchemaRegistryClient},
    settings::{RegistrySettings, SchemaSettings, SubjectNameStrategy},
    shoe::schema::{self, SHOE_PROTO},
    support::secret::Secret,
};

/// The schema id `resolve_schema` settles on.
async fn resolve_schema_id(
    client: &SchemaRegistryClient,
    subject: &str,
    settings: &SchemaSettings,
) -> Result<u32, RegistryError> {
    resolve_schema(client, subject, settings)
        .await
        .map(|(id, _)| id)
}

fn client() -> SchemaRegistryClient {
    SchemaRegistryClient::new(&registry_settings()).expect("client from the local stack's settings")
}

/// A topic name no other test (or earlier run) uses.
fn unique_topic(test: &str) -> String {
    engine_support::unique_topic(&format!("sr-{test}"))
}

fn topic_subject(test: &str) -> String {
    subject_name(SubjectNameStrategy::Topic, &unique_topic(test))
}

fn schema_settings(auto_register: bool, use_latest_version: bool) -> SchemaSettings {
    SchemaSettings {
        subject_name_strategy: SubjectNameStrategy::Topic,
        auto_register,
        use_latest_version,
    }
}

/// Prints the error's message (what this registry answered, for the test log), checks that it names
/// each of `mentions`, and returns it.
fn assert_mentions(error: &RegistryError, mentions: &[&str]) -> String {
    let text = error.to_string();
    println!("{text}");
    for mention in mentions {
        assert!(text.contains(mention), "{mention:?} missing from: {text}");
    }
    text
}

/// Our schema with one more field: a different, backward-compatible version.
fn extended_schema() -> String {
    SHOE_PROTO.replace(
        "double rating = 5;",
        "double rating = 5;\n  string color = 6;",
    )
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn registering_twice_returns_the_same_id() {
    let client = client();
    let subject = topic_subject("twice");
    let first = client.register(&subject, SHOE_PROTO).await.unwrap();
    let second = client.register(&subject, SHOE_PROTO).await.unwrap();
    println!(
        "registry {}: registered {subject} twice: ids {first} and {second}",
        client.base_url()
    );
    // Confluent: registering content the subject already holds returns the existing id and creates no
    // new version.
    assert_eq!(first, second);
    assert_eq!(client.subject_versions(&subject).await.unwrap(), vec![1]);

    let (resolved, how) = resolve_schema(&client, &subject, &schema_settings(true, false))
        .await
        .unwrap();
    assert_eq!((resolved, how), (first, Resolution::Registered));
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn schema_fetched_by_id_is_ours() {
    let client = client();
    let subject = topic_subject("by-id");
    let id = client.register(&subject, SHOE_PROTO).await.unwrap();
    let fetched = client.schema_by_id(id).await.unwrap();
    println!(
        "registry {}: GET /schemas/ids/{id} answered schemaType {:?}, text {} the registered text",
        client.base_url(),
        fetched.schema_type,
        if fetched.schema == SHOE_PROTO {
            "identical to"
        } else {
            "reformatted from"
        }
    );
    // Confluent returns `schemaType: PROTOBUF` and the schema, possibly in its canonical formatting:
    // so compare what the text describes, not the characters.
    assert_eq!(fetched.schema_type.as_deref(), Some("PROTOBUF"));
    assert_eq!(
        schema::difference_from_ours(&fetched.schema),
        None,
        "{}",
        fetched.schema
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn unknown_schema_id_is_40403() {
    let client = client();
    let error = client.schema_by_id(2_000_000_000).await.unwrap_err();
    assert_mentions(&error, &["schema id 2000000000"]);
    assert_eq!(error.status(), Some(404), "{error}");
    assert_eq!(error.error_code(), Some(40403), "{error}");
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn lookup_only_fails_before_registration_and_works_after() {
    let client = client();
    let subject = topic_subject("lookup");
    let lookup_only = schema_settings(false, false);

    let error = resolve_schema_id(&client, &subject, &lookup_only)
        .await
        .unwrap_err();
    assert_mentions(
        &error,
        &[
            &format!("subject {subject}"),
            &format!("{}/subjects/{subject}", client.base_url()),
            "HTTP 404 (error_code 40401)",
            "auto-register is off",
            "--no-auto-register",
        ],
    );
    assert_eq!(error.error_code(), Some(40401), "{error}");
    assert!(error.is_subject_not_found());

    let registered = client.register(&subject, SHOE_PROTO).await.unwrap();
    // The same client finds the schema once it is registered.
    let found = resolve_schema_id(&client, &subject, &lookup_only)
        .await
        .unwrap();
    assert_eq!(found, registered);
    let details = client.lookup(&subject, SHOE_PROTO).await.unwrap();
    assert_eq!(
        (details.subject.as_str(), details.version, details.id),
        (subject.as_str(), 1, registered)
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn lookup_of_a_schema_the_subject_lacks_is_40403() {
    let client = client();
    let subject = topic_subject("lookup-other");
    client.register(&subject, &extended_schema()).await.unwrap();
    let error = resolve_schema_id(&client, &subject, &schema_settings(false, false))
        .await
        .unwrap_err();
    assert_mentions(&error, &["does not hold this schema"]);
    assert_eq!(error.error_code(), Some(40403), "{error}");
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn use_latest_version_accepts_ours_and_refuses_another() {
    let client = client();
    let subject = topic_subject("latest");
    let latest = schema_settings(true, true);

    let error = resolve_schema_id(&client, &subject, &latest)
        .await
        .unwrap_err();
    assert_mentions(&error, &["--use-latest-version"]);
    assert_eq!(error.error_code(), Some(40401), "{error}");

    let ours = client.register(&subject, SHOE_PROTO).await.unwrap();
    let (id, how) = resolve_schema(&client, &subject, &latest).await.unwrap();
    assert_eq!((id, how), (ours, Resolution::Latest));

    // A newer, compatible version that is not the schema we serialize with.
    let newer = client.register(&subject, &extended_schema()).await.unwrap();
    assert_ne!(newer, ours);
    let error = resolve_schema_id(&client, &subject, &latest)
        .await
        .unwrap_err();
    let text = assert_mentions(&error, &[&subject, "color"]);
    assert!(
        matches!(error, RegistryError::LatestMismatch { version: 2, .. }),
        "{text}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn each_subject_name_strategy_registers_its_subject() {
    let client = client();
    let topic = unique_topic("strategy");
    let mut ids = Vec::new();
    for strategy in [
        SubjectNameStrategy::Topic,
        SubjectNameStrategy::Record,
        SubjectNameStrategy::TopicRecord,
    ] {
        let subject = subject_name(strategy, &topic);
        let settings = SchemaSettings {
            subject_name_strategy: strategy,
            auto_register: true,
            use_latest_version: false,
        };
        let id = resolve_schema_id(&client, &subject, &settings)
            .await
            .unwrap();
        let found = client.lookup(&subject, SHOE_PROTO).await.unwrap();
        println!(
            "{strategy:?}: subject {subject}, id {id}, version {}",
            found.version
        );
        assert_eq!(found.subject, subject);
        assert_eq!(found.id, id);
        assert!(!client.subject_versions(&subject).await.unwrap().is_empty());
        ids.push(id);
    }
    // Confluent gives identical content one id across subjects.
    assert!(ids.iter().all(|id| *id == ids[0]), "ids {ids:?}");
    assert_eq!(
        subject_name(SubjectNameStrategy::Topic, &topic),
        format!("{topic}-value")
    );
    assert_eq!(
        subject_name(SubjectNameStrategy::Record, &topic),
        "main.Shoe"
    );
    assert_eq!(
        subject_name(SubjectNameStrategy::TopicRecord, &topic),
        format!("{topic}-main.Shoe")
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn wrong_credentials_give_the_401_message_without_the_secret() {
    let secret = "wrong-secret-ZK4q-distinctive-31b7";
    let settings = RegistrySettings {
        api_secret: Some(Secret::new(secret)),
        ..registry_settings()
    };
    let client = SchemaRegistryClient::new(&settings).unwrap();
    let subject = topic_subject("auth");
    let error = resolve_schema_id(&client, &subject, &schema_settings(true, false))
        .await
        .unwrap_err();
    let text = assert_mentions(
        &error,
        &[
            "HTTP 401",
            "SCHEMA_REGISTRY_API_KEY",
            "SCHEMA_REGISTRY_API_SECRET",
            &client.base_url(),
            &subject,
        ],
    );
    let debug = format!("{error:?}");
    assert_eq!(error.status(), Some(401), "{text}");
    for shown in [&text, &debug, &format!("{client:?}")] {
        assert!(
            !shown.contains(secret) && !shown.contains("ZK4q"),
            "secret leaked: {shown}"
        );
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn incompatible_schema_gives_the_409_message() {
    let client = client();
    let subject = topic_subject("incompatible");
    client.register(&subject, SHOE_PROTO).await.unwrap();
    set_subject_compatibility(&subject, "BACKWARD").await;
    let incompatible = SHOE_PROTO.replace("int64 id = 1;", "string id = 1;");
    let error = client.register(&subject, &incompatible).await.unwrap_err();
    assert_mentions(&error, &["incompatible", "compatibility level"]);
    assert_eq!(error.status(), Some(409), "{error}");
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn invalid_schema_gives_the_42201_message() {
    let client = client();
    let subject = topic_subject("invalid");
    let error = client
        .register(&subject, "this is not a protobuf schema {")
        .await
        .unwrap_err();
    assert_mentions(&error, &["invalid Protobuf"]);
    assert_eq!(error.status(), Some(422), "{error}");
    assert_eq!(error.error_code(), Some(42201), "{error}");
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn untrusted_certificate_names_the_ca_variable() {
    let settings = RegistrySettings {
        ca_file: None,
        ..registry_settings()
    };
    let client = SchemaRegistryClient::new(&settings).unwrap();
    let error = client.subject_versions("any-subject").await.unwrap_err();
    let text = assert_mentions(
        &error,
        &["SCHEMA_REGISTRY_SSL_CA_LOCATION", &client.base_url()],
    );
    assert!(
        matches!(error, RegistryError::TlsHandshake { .. }),
        "{text}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run scripts/test.sh"]
async fn unreachable_registry_names_the_url_and_cause() {
    // A closed port on loopback: connection refused on every attempt.
    let settings = RegistrySettings {
        url: shoe_producer::settings::RegistryUrl::parse("https://127.0.0.1:9").unwrap(),
        ..registry_settings()
    };
    let client = SchemaRegistryClient::new(&settings).unwrap();
    let error = client
        .register("shoes-value", SHOE_PROTO)
        .await
        .unwrap_err();
    let text = assert_mentions(
        &error,
        &[
            "https://127.0.0.1:9/subjects/shoes-value/versions",
            "after 4 attempts",
        ],
    );
    assert!(matches!(error, RegistryError::Unreachable { .. }), "{text}");
}

/// Sets a subject's compatibility level (`PUT /config/{subject}`), which the producer never does.
async fn set_subject_compatibility(subject: &str, level: &str) {
    let response = registry_request(
        &registry_http_client(),
        reqwest::Method::PUT,
        &format!("/config/{subject}"),
    )
    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
    .body(format!(r#"{{"compatibility":"{level}"}}"#))
    .send()
    .await
    .unwrap();
    assert!(
        response.status().is_success(),
        "PUT /config/{subject}: {}",
        response.status()
    );
}
