//! The commands as users meet them, run as the real binary against the local stack: `check` green
//! and red (wrong Kafka or registry secret, which never shows up in the output), `register` stable
//! across runs and saying what is wrong with a registry URL (`http://` to the HTTPS port, a host name
//! the certificate does not hold), `sample` reproducible without any network, and a Confluent
//! `client.properties` file producing exactly what the same settings as environment variables
//! produce.

use crate::support;

use std::{collections::BTreeMap, time::Duration};

use shoe_producer::{shoe::wire, shoe::Shoe};
use support::{
    bare_command, block_on, consume_all, create_topic, registry_get_json, registry_http_client,
    run_to_end, stack_command, stack_env, unique_name, Finished, Trap,
};

/// Generous bound for a command that should take about a second; only a hang guard.
const QUICK: Duration = Duration::from_secs(60);

/// The `check` line for `name`, e.g. `ok   topic     shoes: 6 partition(s)`.
fn check_line<'a>(run: &'a Finished, name: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no `{name}` line\n{}", run.transcript()))
}

fn status_of<'a>(run: &'a Finished, name: &str) -> &'a str {
    check_line(run, name)
        .split_whitespace()
        .next()
        .expect("a status word")
}

/// Each of the `names` lines of `check` is `ok`.
fn assert_all_ok(run: &Finished, names: &[&str]) {
    for name in names {
        assert_eq!(status_of(run, name), "ok", "{}", run.transcript());
    }
}

/// The `name` line of `check` fails and blames the credentials, naming `variable`.
fn assert_credentials_fail(run: &Finished, name: &str, variable: &str) {
    let fail = check_line(run, name);
    assert!(fail.starts_with("FAIL"), "{}", run.transcript());
    assert!(fail.contains("credentials"), "{}", run.transcript());
    assert!(fail.contains(variable), "{}", run.transcript());
}

/// `secret` shows up on neither stdout nor stderr.
fn assert_secret_hidden(run: &Finished, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the secret leaked\n{}",
        run.transcript()
    );
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn check_is_green_on_the_stack() {
    let topic = create_topic("cmd-check-ok", 6);
    let run = run_to_end(stack_command().args(["check", "--topic", &topic]), QUICK);

    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    assert_all_ok(
        &run,
        &["brokers", "tls", "sasl", "topic", "registry", "subject"],
    );
    assert!(
        check_line(&run, "brokers").contains(&stack_env("BOOTSTRAP_SERVERS")),
        "{}",
        run.transcript()
    );
    assert!(
        check_line(&run, "sasl").contains(&stack_env("KAFKA_API_KEY")),
        "{}",
        run.transcript()
    );
    assert!(
        check_line(&run, "topic").contains(&format!("{topic}: 6 partition(s)")),
        "{}",
        run.transcript()
    );
    assert!(
        check_line(&run, "subject").contains(&format!("{topic}-value")),
        "{}",
        run.transcript()
    );
    assert!(!run.stdout.contains("FAIL"), "{}", run.transcript());
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn check_is_red_with_a_wrong_kafka_secret_and_never_prints_it() {
    let topic = create_topic("cmd-check-kafka", 6);
    let wrong = "wrong-kafka-secret-Zq81xVv";
    let run = run_to_end(
        stack_command()
            .env("KAFKA_API_SECRET", wrong)
            .args(["check", "--topic", &topic]),
        QUICK,
    );

    assert_eq!(run.code(), Some(1), "{}", run.transcript());
    assert_credentials_fail(&run, "sasl", "KAFKA_API_SECRET");
    assert_ne!(status_of(&run, "topic"), "ok", "{}", run.transcript());
    // The registry is independent of Kafka's credentials and still checked.
    assert_all_ok(&run, &["brokers", "registry"]);
    assert_secret_hidden(&run, wrong);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn check_is_red_with_a_wrong_registry_secret_and_never_prints_it() {
    let topic = create_topic("cmd-check-sr", 6);
    let wrong = "wrong-registry-secret-Pk27mRt";
    let run = run_to_end(
        stack_command()
            .args(["check", "--topic", &topic])
            .args(["--schema-registry-api-secret", wrong]),
        QUICK,
    );

    assert_eq!(run.code(), Some(1), "{}", run.transcript());
    assert_credentials_fail(&run, "registry", "SCHEMA_REGISTRY_API_SECRET");
    assert_ne!(status_of(&run, "subject"), "ok", "{}", run.transcript());
    assert_all_ok(&run, &["brokers", "sasl", "topic"]);
    assert_secret_hidden(&run, wrong);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn register_prints_the_same_id_twice_and_the_registry_agrees() {
    let topic = unique_name("cmd-register");
    let subject = format!("{topic}-value");
    let register = || run_to_end(stack_command().args(["register", "--topic", &topic]), QUICK);

    let first = register();
    let second = register();
    for run in [&first, &second] {
        assert_eq!(run.code(), Some(0), "{}", run.transcript());
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.transcript());
    }
    let id: u32 = first
        .stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("stdout is not a bare id\n{}", first.transcript()));
    assert_eq!(second.stdout.trim(), id.to_string());

    let json = run_to_end(
        stack_command().args(["--log-format", "json", "register", "--topic", &topic]),
        QUICK,
    );
    assert_eq!(json.code(), Some(0), "{}", json.transcript());
    let line: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("one JSON line");
    assert_eq!(line["event"], "schema");
    assert_eq!(line["subject"], subject.as_str());
    assert_eq!(line["schema_id"], id);

    // What the registry itself says about that subject and id.
    let (latest, by_id) = block_on(async {
        let client = registry_http_client();
        let latest =
            registry_get_json(&client, &format!("/subjects/{subject}/versions/latest")).await;
        let by_id = registry_get_json(&client, &format!("/schemas/ids/{id}")).await;
        (latest, by_id)
    });
    assert_eq!(latest["id"], id, "latest version: {latest}");
    assert_eq!(
        latest["version"], 1,
        "registered once, then looked up: {latest}"
    );
    assert_eq!(by_id["schemaType"], "PROTOBUF", "{by_id}");
    let schema = by_id["schema"].as_str().expect("schema text");
    assert!(schema.contains("message Shoe"), "{schema}");
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn an_http_url_to_the_https_port_asks_whether_it_is_an_https_url() {
    let https = stack_env("SCHEMA_REGISTRY_URL");
    let http = https.replacen("https://", "http://", 1);
    assert_ne!(http, https, "the stack's registry URL is https://");
    let run = run_to_end(
        stack_command().env("SCHEMA_REGISTRY_URL", &http).args([
            "register",
            "--topic",
            &unique_name("cmd-http"),
        ]),
        QUICK,
    );
    assert_eq!(run.code(), Some(1), "{}", run.transcript());
    let line = run.error_line();
    assert!(line.contains(&format!("POST {http}/subjects/")), "{line}");
    assert!(
        line.contains("HTTP 400: 400 The plain HTTP request was sent to HTTPS port;"),
        "{line}"
    );
    assert!(
        line.contains("the server answered HTTP 400 to a plain http:// request, which is what an HTTPS port does: is it an https:// URL?"),
        "{line}"
    );
}

/// Forwards every connection to `127.0.0.2:<port>` to `target`: the same server under a name (an
/// address) its certificate does not hold.
fn forward_from_another_loopback_address(target: String) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = std::net::TcpStream::connect(&target) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
    port
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_registry_name_not_in_its_certificate_is_named_as_the_problem() {
    let url = url::Url::parse(&stack_env("SCHEMA_REGISTRY_URL")).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let port = forward_from_another_loopback_address(target);
    let run = run_to_end(
        stack_command()
            .env("SCHEMA_REGISTRY_URL", format!("https://127.0.0.2:{port}"))
            .args(["register", "--topic", &unique_name("cmd-name")]),
        QUICK,
    );
    assert_eq!(run.code(), Some(1), "{}", run.transcript());
    let line = run.error_line();
    assert!(
        line.contains(&format!(
            "the TLS certificate of Schema Registry https://127.0.0.2:{port} is not valid for \"127.0.0.2\" (it holds 127.0.0.1, localhost)"
        )),
        "{line}"
    );
    assert!(line.contains("a CA file cannot fix a name"), "{line}");
    assert!(!line.contains("SCHEMA_REGISTRY_SSL_CA_LOCATION"), "{line}");
}

fn sample(args: &[&str]) -> Finished {
    run_to_end(bare_command().arg("sample").args(args), QUICK)
}

#[test]
fn sample_is_reproducible_offline_with_ids_from_id_start() {
    let first = sample(&["--count", "5", "--seed", "42", "--id-start", "1000"]);
    let again = sample(&["--count", "5", "--seed", "42", "--id-start", "1000"]);
    let other_seed = sample(&["--count", "5", "--seed", "43", "--id-start", "1000"]);
    for run in [&first, &again, &other_seed] {
        assert_eq!(run.code(), Some(0), "{}", run.transcript());
    }
    assert_eq!(first.stdout, again.stdout);
    assert_ne!(first.stdout, other_seed.stdout);

    let shoes: Vec<serde_json::Value> = first
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(shoes.len(), 5, "{}", first.transcript());
    let ids: Vec<&str> = shoes.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1000", "1001", "1002", "1003", "1004"]);
    for shoe in &shoes {
        let fields: Vec<&String> = shoe.as_object().unwrap().keys().collect();
        assert_eq!(fields.len(), 5, "{shoe}");
        assert!(!shoe["brand"].as_str().unwrap().is_empty(), "{shoe}");
        assert!(!shoe["name"].as_str().unwrap().is_empty(), "{shoe}");
        assert!(shoe["sale_price"].as_f64().unwrap() > 0.0, "{shoe}");
        assert!(
            (0.0..=5.0).contains(&shoe["rating"].as_f64().unwrap()),
            "{shoe}"
        );
    }
}

#[test]
fn sample_makes_no_connection_even_when_kafka_and_registry_are_configured() {
    let trap = Trap::new();
    let address = trap.address();
    let run = run_to_end(
        bare_command()
            .env("BOOTSTRAP_SERVERS", &address)
            .env("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
            .env("SCHEMA_REGISTRY_URL", format!("http://{address}"))
            .args(["sample", "--count", "3", "--seed", "1"]),
        QUICK,
    );
    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.transcript());
    assert!(!trap.was_contacted(), "sample connected to {address}");
}

/// A seed above 2^53 that no double holds: as a JSON number it would come back as another seed.
const BIG_SEED: &str = "18446744073709551557";

#[test]
fn a_logged_random_seed_replays_the_same_shoes() {
    let sample_json = |args: &[&str]| {
        run_to_end(
            bare_command()
                .args(["--log-format", "json", "sample", "--count", "20"])
                .args(args),
            QUICK,
        )
    };
    let first = sample_json(&[]);
    assert_eq!(first.code(), Some(0), "{}", first.transcript());
    let logged: serde_json::Value = first
        .stderr
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .find(|line: &serde_json::Value| line.get("seed").is_some())
        .unwrap_or_else(|| panic!("no seed logged\n{}", first.transcript()));
    let seed = logged["seed"]
        .as_str()
        .unwrap_or_else(|| panic!("the seed is not a JSON string: {logged}"));
    let replay = sample_json(&["--seed", seed]);
    assert_eq!(replay.code(), Some(0), "{}", replay.transcript());
    assert_eq!(replay.stdout, first.stdout);
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn a_seed_above_two_to_the_53_in_the_json_summary_replays_to_the_same_shoes() {
    assert_ne!(
        (BIG_SEED.parse::<f64>().unwrap() as u64).to_string(),
        BIG_SEED,
        "the seed must be one a JSON number would round"
    );
    let topic = create_topic("cmd-big-seed", 6);
    let run = run_to_end(
        stack_command()
            .args(["--log-format", "json", "produce", "--topic", &topic])
            .args(["--count", "300", "--seed", BIG_SEED]),
        QUICK,
    );
    assert_eq!(run.code(), Some(0), "{}", run.transcript());
    let summary = run.summary();
    assert_eq!(summary["seed"], BIG_SEED, "{summary}");
    let seed = summary["seed"].as_str().unwrap();

    let sample = sample(&["--count", "300", "--seed", seed]);
    assert_eq!(sample.code(), Some(0), "{}", sample.transcript());
    let on_topic = records_by_key(&topic);
    assert_eq!(on_topic.len(), 300);
    assert_sample_is_on_topic(&sample.stdout, &on_topic);
}

/// The stack's settings as a Confluent Cloud `client.properties` (with the local CA files added).
fn client_properties() -> String {
    format!(
        "# Required connection configs for Kafka producer, consumer, and admin\n\
         bootstrap.servers={bootstrap}\n\
         security.protocol=SASL_SSL\n\
         sasl.mechanisms=PLAIN\n\
         sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='{key}' password='{secret}';\n\
         ssl.ca.location={kafka_ca}\n\
         # Best practice for higher availability in Apache Kafka clients prior to 3.0\n\
         session.timeout.ms=45000\n\
         # Best practice for Kafka producer to prevent data loss\n\
         acks=all\n\
         \n\
         # Required connection configs for Confluent Cloud Schema Registry\n\
         schema.registry.url={registry}\n\
         basic.auth.credentials.source=USER_INFO\n\
         basic.auth.user.info={sr_key}:{sr_secret}\n\
         schema.registry.ssl.ca.location={registry_ca}\n",
        bootstrap = stack_env("BOOTSTRAP_SERVERS"),
        key = stack_env("KAFKA_API_KEY"),
        secret = stack_env("KAFKA_API_SECRET"),
        kafka_ca = stack_env("KAFKA_SSL_CA_LOCATION"),
        registry = stack_env("SCHEMA_REGISTRY_URL"),
        sr_key = stack_env("SCHEMA_REGISTRY_API_KEY"),
        sr_secret = stack_env("SCHEMA_REGISTRY_API_SECRET"),
        registry_ca = stack_env("SCHEMA_REGISTRY_SSL_CA_LOCATION"),
    )
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn confluent_serializer_keys_in_client_properties_keep_their_meaning() {
    let topic = unique_name("cmd-props-serializer");
    let subject = format!("{topic}-main.Shoe");
    let dir = tempfile::tempdir().unwrap();
    let register = |extra: &str| {
        let properties = dir.path().join("client.properties");
        std::fs::write(
            &properties,
            format!(
                "{}value.subject.name.strategy=io.confluent.kafka.serializers.subject.TopicRecordNameStrategy\n{extra}",
                client_properties()
            ),
        )
        .unwrap();
        let run = run_to_end(
            bare_command()
                .args(["--log-format", "json", "register", "--topic", &topic])
                .arg("--config")
                .arg(&properties),
            QUICK,
        );
        assert_eq!(run.code(), Some(0), "{}", run.transcript());
        let line: serde_json::Value =
            serde_json::from_str(run.stdout.trim()).expect("one JSON line");
        assert_eq!(line["subject"], subject.as_str(), "{line}");
        let warned = run.stderr.contains("checked first");
        (line["resolution"].as_str().unwrap().to_owned(), warned)
    };
    // Confluent's class name picks the subject; the schema is registered by default.
    assert_eq!(register(""), ("registered".to_owned(), false));
    // Auto-registration off and the latest version on: the registered version is used.
    assert_eq!(
        register("auto.register.schemas=false\nuse.latest.version=true\nlatest.compatibility.strict=true\n"),
        ("latest".to_owned(), false)
    );
    // Both on: auto-registration is checked first, as in Confluent's serializer, and a warning says so.
    assert_eq!(
        register("auto.register.schemas=true\nuse.latest.version=true\n"),
        ("registered".to_owned(), true)
    );
    // Auto-registration off alone: a lookup.
    assert_eq!(
        register("auto.register.schemas=false\n"),
        ("looked_up".to_owned(), false)
    );
}

/// Each key's (partition, schema id, decoded shoe) on `topic`.
fn records_by_key(topic: &str) -> BTreeMap<String, (i32, u32, Shoe)> {
    let mut by_key = BTreeMap::new();
    for record in consume_all(topic, 6) {
        let key = String::from_utf8(record.key).expect("UTF-8 key");
        let framed = wire::decode(&record.value).expect("Confluent-framed value");
        assert_eq!(framed.message_indexes, [0], "key {key}");
        let shoe: Shoe = framed.decode_payload().expect("a Shoe payload");
        assert_eq!(shoe.id.to_string(), key, "the key is the shoe id");
        let previous = by_key.insert(key.clone(), (record.partition, framed.schema_id, shoe));
        assert!(previous.is_none(), "key {key} twice on {topic}");
    }
    by_key
}

#[test]
#[ignore = "needs the local stack: run scripts/test.sh"]
fn client_properties_file_produces_what_the_environment_produces() {
    let from_file = create_topic("cmd-props-file", 6);
    let from_env = create_topic("cmd-props-env", 6);
    let dir = tempfile::tempdir().unwrap();
    let properties = dir.path().join("client.properties");
    std::fs::write(&properties, client_properties()).unwrap();
    let produce = [
        "--log-format",
        "json",
        "produce",
        "--count",
        "1000",
        "--seed",
        "5",
    ];

    let file_run = run_to_end(
        bare_command()
            .args(produce)
            .args(["--topic", &from_file])
            .arg("--config")
            .arg(&properties),
        QUICK,
    );
    let env_run = run_to_end(
        stack_command().args(produce).args(["--topic", &from_env]),
        QUICK,
    );

    for (run, topic) in [(&file_run, &from_file), (&env_run, &from_env)] {
        assert_eq!(run.code(), Some(0), "{}", run.transcript());
        let summary = run.summary();
        assert_eq!(summary["topic"], topic.as_str(), "{summary}");
        assert_eq!(summary["subject"], format!("{topic}-value"), "{summary}");
        assert_eq!(summary["sent"], 1000, "{summary}");
        assert_eq!(summary["acked"], 1000, "{summary}");
        assert_eq!(summary["failed"], 0, "{summary}");
    }
    assert_secret_hidden(&file_run, &stack_env("KAFKA_API_SECRET"));
    // The consumer-only key is named in one warning, not silently ignored; the env run warns nothing.
    let warnings = |run: &Finished| -> Vec<String> {
        run.stderr
            .lines()
            .filter(|line| line.contains(r#""level":"WARN""#))
            .map(str::to_owned)
            .collect()
    };
    let file_warnings = warnings(&file_run);
    assert_eq!(file_warnings.len(), 1, "{}", file_run.transcript());
    assert!(
        file_warnings[0].contains("session.timeout.ms"),
        "{file_warnings:?}"
    );
    assert_eq!(warnings(&env_run), Vec::<String>::new());

    let file_records = records_by_key(&from_file);
    let env_records = records_by_key(&from_env);
    assert_eq!(file_records.len(), 1000);
    let ids: Vec<i64> = file_records.values().map(|(_, _, shoe)| shoe.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=1000).collect::<Vec<i64>>());
    assert_eq!(
        file_run.summary()["schema_id"],
        env_run.summary()["schema_id"]
    );
    // Same shoe, same partition (murmur2 of the same key), same schema id, record for record.
    assert_eq!(file_records, env_records);

    // And they are the shoes `sample` shows for the same seed.
    let sample = sample(&["--count", "1000", "--seed", "5"]);
    assert_eq!(sample.code(), Some(0), "{}", sample.transcript());
    assert_sample_is_on_topic(&sample.stdout, &file_records);
}

/// Every shoe `sample` printed (JSON lines) is the one the topic holds under its id.
fn assert_sample_is_on_topic(stdout: &str, on_topic: &BTreeMap<String, (i32, u32, Shoe)>) {
    for line in stdout.lines() {
        let shown: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = shown["id"].as_str().expect("the id as a string");
        let (_, _, sent) = &on_topic[key];
        assert_eq!(shown["brand"], sent.brand.as_str(), "key {key}");
        assert_eq!(shown["name"], sent.name.as_str(), "key {key}");
        assert_eq!(
            shown["sale_price"].as_f64(),
            Some(sent.sale_price),
            "key {key}"
        );
        assert_eq!(shown["rating"].as_f64(), Some(sent.rating), "key {key}");
    }
}
