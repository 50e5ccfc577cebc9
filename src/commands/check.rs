//! `check`: can this configuration produce? Connects to Kafka and the Schema Registry and prints one
//! line per fact — brokers reached, TLS trusted, SASL accepted, topic and partitions, registry
//! reachable and authorized, subject and its latest version — like kcat's `-L`, but answering the
//! questions people have before a first run. Exit 0 when every check passed, 1 otherwise.

use crate::{
    app::config::require_kafka,
    commands::stdout,
    kafka::{self, KafkaError},
    registry::{subject_name, RegistryError, SchemaRegistryClient},
    settings::exit::Failure,
    settings::{Config, KafkaSettings, LogFormat},
};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Fail,
    /// Not run: an earlier check failed, or the service is not configured.
    Skipped,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Fail => "FAIL",
            Self::Skipped => "skip",
        }
    }
}

/// One printed line: what was checked, how it went, and the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CheckLine {
    name: &'static str,
    status: Status,
    detail: String,
}

impl CheckLine {
    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Self {
        Self {
            name,
            status,
            detail: detail.into(),
        }
    }

    /// `ok   brokers   reached …` or a JSON object with `"event":"check"`.
    fn render(&self, format: LogFormat) -> String {
        match format {
            LogFormat::Text => format!(
                "{:<4} {:<9} {}",
                self.status.as_str(),
                self.name,
                self.detail
            ),
            LogFormat::Json => serde_json::json!({
                "event": "check",
                "check": self.name,
                "status": self.status.as_str().to_ascii_lowercase(),
                "detail": self.detail,
            })
            .to_string(),
        }
    }
}

/// Runs every check, printing each line on stdout as soon as it is known.
pub(crate) async fn check(config: &Config) -> Result<(), Failure> {
    let mut out = Printer {
        format: config.log_format,
        failures: 0,
    };
    let kafka_settings = require_kafka(config)?;
    check_kafka(kafka_settings, &config.topic, &mut out).await;
    check_registry(config, &mut out).await;
    match out.failures {
        0 => Ok(()),
        n => Err(Failure::runtime(format!(
            "check found {n} problem(s); see the FAIL line(s) above"
        ))),
    }
}

struct Printer {
    format: LogFormat,
    failures: usize,
}

impl Printer {
    fn line(&mut self, name: &'static str, status: Status, detail: impl Into<String>) {
        let line = CheckLine::new(name, status, detail);
        if status == Status::Fail {
            self.failures += 1;
        }
        stdout::print(
            &format!("{}\n", line.render(self.format)),
            "check's results",
        );
    }
}

async fn check_kafka(settings: &KafkaSettings, topic: &str, out: &mut Printer) {
    let bootstrap = settings.bootstrap_servers.join(",");
    let protocol = settings.security_protocol;
    let kafka = match kafka::connect(settings).await {
        Ok(kafka) => kafka,
        Err(error) => {
            let failed_at = connect_failure_stage(&error);
            if failed_at != "brokers" {
                out.line("brokers", Status::Ok, format!("reached {bootstrap}"));
            }
            if failed_at == "sasl" && protocol.uses_tls() {
                out.line("tls", Status::Ok, "broker certificate trusted");
            }
            out.line(failed_at, Status::Fail, error.to_string());
            out.line(
                "topic",
                Status::Skipped,
                format!("{topic}: not checked without a Kafka connection"),
            );
            return;
        }
    };
    match kafka.cluster_info().await {
        Ok(cluster) => {
            let brokers: Vec<String> = cluster
                .brokers
                .iter()
                .map(|b| format!("{}@{}", b.id, b.address()))
                .collect();
            let cluster_id = cluster.cluster_id.as_deref().unwrap_or("unknown");
            out.line(
                "brokers",
                Status::Ok,
                format!(
                    "reached {bootstrap}: cluster {cluster_id}, {} broker(s): {}",
                    brokers.len(),
                    brokers.join(", ")
                ),
            );
        }
        Err(error) => out.line("brokers", Status::Fail, error.to_string()),
    }
    if protocol.uses_tls() {
        out.line("tls", Status::Ok, "broker certificate trusted");
    }
    if protocol.uses_sasl() {
        let key = settings.api_key.as_deref().unwrap_or("");
        let session = match kafka.session_lifetime() {
            Some(lifetime) => format!(
                "; sessions last {} (connections.max.reauth.ms), each connection is replaced before \
                 its session ends",
                humantime::format_duration(lifetime)
            ),
            None => String::new(),
        };
        out.line(
            "sasl",
            Status::Ok,
            format!(
                "{} {} accepted for API key {key}{session}",
                protocol.as_str(),
                settings.sasl_mechanism.as_str()
            ),
        );
    } else {
        out.line(
            "sasl",
            Status::Skipped,
            format!("not used with {}", protocol.as_str()),
        );
    }
    match kafka.partition_count(topic).await {
        Ok(partitions) => out.line(
            "topic",
            Status::Ok,
            format!("{topic}: {partitions} partition(s)"),
        ),
        Err(error) => out.line("topic", Status::Fail, error.to_string()),
    }
}

/// Which line a connection failure belongs on.
fn connect_failure_stage(error: &KafkaError) -> &'static str {
    match error {
        KafkaError::AuthenticationFailed { .. }
        | KafkaError::MechanismNotEnabled { .. }
        | KafkaError::SaslNotEnabled { .. }
        | KafkaError::SaslExpected { .. }
        | KafkaError::Sasl { .. } => "sasl",
        KafkaError::Tls { .. } | KafkaError::TlsSetup(_) => "tls",
        _ => "brokers",
    }
}

async fn check_registry(config: &Config, out: &mut Printer) {
    let subject = subject_name(config.schema.subject_name_strategy, &config.topic);
    let Some(settings) = &config.registry else {
        out.line(
            "registry",
            Status::Skipped,
            "not configured: set --schema-registry-url / SCHEMA_REGISTRY_URL to check it",
        );
        return;
    };
    let client = match SchemaRegistryClient::new(settings) {
        Ok(client) => client,
        Err(error) => {
            out.line("registry", Status::Fail, error.to_string());
            return;
        }
    };
    let url = client.base_url();
    let must_exist = config.schema.use_latest_version || !config.schema.auto_register;
    match client.latest(&subject).await {
        Ok(latest) => {
            out.line(
                "registry",
                Status::Ok,
                format!("{url}: reachable, credentials accepted"),
            );
            let ours = latest.difference_from_ours().is_none();
            let detail = format!(
                "{subject}: latest version {}, schema id {}",
                latest.version, latest.id
            );
            if ours {
                out.line(
                    "subject",
                    Status::Ok,
                    format!("{detail}, this producer's schema"),
                );
            } else if config.schema.use_latest_version {
                out.line(
                    "subject",
                    Status::Fail,
                    format!(
                        "{detail}, not this producer's schema, which --use-latest-version refuses"
                    ),
                );
            } else {
                out.line(
                    "subject",
                    Status::Ok,
                    format!("{detail}, not this producer's schema: a run registers ours as a new version if compatible"),
                );
            }
        }
        Err(error) if error.is_subject_not_found() => {
            out.line(
                "registry",
                Status::Ok,
                format!("{url}: reachable, credentials accepted"),
            );
            if must_exist {
                out.line(
                    "subject",
                    Status::Fail,
                    format!("{subject}: no versions, and auto-register is off; run `shoe-producer register` with a key that may write"),
                );
            } else {
                out.line(
                    "subject",
                    Status::Ok,
                    format!("{subject}: no versions yet; the first run registers the schema"),
                );
            }
        }
        Err(error) => {
            out.line("registry", Status::Fail, error.to_string());
            out.line(
                "subject",
                Status::Skipped,
                format!("{subject}: not checked, {}", registry_state(&error)),
            );
        }
    }
}

fn registry_state(error: &RegistryError) -> &'static str {
    match error.status() {
        Some(401 | 403) => "credentials rejected",
        Some(_) => "registry answered with an error",
        None => "registry not reachable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_in_text_and_json() {
        let line = CheckLine::new("topic", Status::Ok, "shoes: 6 partition(s)");
        assert_eq!(
            line.render(LogFormat::Text),
            "ok   topic     shoes: 6 partition(s)"
        );
        let json: serde_json::Value = serde_json::from_str(&line.render(LogFormat::Json)).unwrap();
        assert_eq!(json["event"], "check");
        assert_eq!(json["check"], "topic");
        assert_eq!(json["status"], "ok");
        let failed = CheckLine::new("sasl", Status::Fail, "rejected");
        assert!(failed
            .render(LogFormat::Text)
            .starts_with("FAIL sasl      rejected"));
    }

    #[test]
    fn connection_failures_land_on_the_right_line() {
        let auth = KafkaError::AuthenticationFailed {
            broker: "b:1".into(),
            mechanism: "PLAIN".into(),
        };
        assert_eq!(connect_failure_stage(&auth), "sasl");
        let tls = KafkaError::Tls {
            broker: "b:1".into(),
            failure: crate::support::tls::TlsFailure::UnknownIssuer,
        };
        assert_eq!(connect_failure_stage(&tls), "tls");
        let down = KafkaError::Unreachable {
            bootstrap: "b:1".into(),
            waited: Default::default(),
            cause: "refused".into(),
        };
        assert_eq!(connect_failure_stage(&down), "brokers");
    }
}
