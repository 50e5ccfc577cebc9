//! `register`: register (or look up) the Shoe schema for the configured subject and print its id —
//! for pipelines that provision schemas before producers start, or to learn the id a run will use.
//!
//! It settles the id exactly as `produce` does (`--no-auto-register`, `--use-latest-version`), so
//! running it twice prints the same id.

use crate::{
    app::config::require_registry,
    commands::stdout,
    registry::{resolve_schema, subject_name, Resolution, SchemaRegistryClient},
    settings::exit::Failure,
    settings::{Config, LogFormat},
};

/// Resolves the schema id and prints it on stdout: the bare id, or a JSON line with
/// `"event":"schema"`, the subject and how the id was obtained.
pub(crate) async fn register(config: &Config) -> Result<(), Failure> {
    let settings = require_registry(config)?;
    let client = SchemaRegistryClient::new(settings).map_err(Failure::runtime)?;
    let subject = subject_name(config.schema.subject_name_strategy, &config.topic);
    let (id, resolution) = resolve_schema(&client, &subject, &config.schema)
        .await
        .map_err(Failure::runtime)?;
    tracing::info!(subject = %subject, schema_id = id, "schema {} on {}", describe(resolution), client.base_url());
    let line = render(config.log_format, &subject, id, resolution);
    stdout::print(&format!("{line}\n"), "the schema id");
    Ok(())
}

fn describe(resolution: Resolution) -> &'static str {
    match resolution {
        Resolution::Registered => "registered",
        Resolution::LookedUp => "looked up",
        Resolution::Latest => "taken from the latest version",
    }
}

/// The stdout line: `100001`, or `{"event":"schema","subject":…,"schema_id":…,"resolution":…}`.
fn render(format: LogFormat, subject: &str, id: u32, resolution: Resolution) -> String {
    match format {
        LogFormat::Text => id.to_string(),
        LogFormat::Json => serde_json::json!({
            "event": "schema",
            "subject": subject,
            "schema_id": id,
            "resolution": resolution.as_str(),
        })
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_the_bare_id_or_one_json_line() {
        assert_eq!(
            render(
                LogFormat::Text,
                "shoes-value",
                100_001,
                Resolution::Registered
            ),
            "100001"
        );
        let json: serde_json::Value = serde_json::from_str(&render(
            LogFormat::Json,
            "shoes-value",
            7,
            Resolution::LookedUp,
        ))
        .unwrap();
        assert_eq!(json["schema_id"], 7);
        assert_eq!(json["subject"], "shoes-value");
        assert_eq!(json["resolution"], "looked_up");
    }
}
