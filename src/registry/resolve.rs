//! The one question the producer asks the registry: which schema id to frame every record with,
//! settled once per run from the subject and the schema settings.

use super::{client::SchemaRegistryClient, error::RegistryError};
use crate::{settings::SchemaSettings, shoe::schema};

/// How the schema id was obtained, for logs and the `register` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Registered (or found already registered) with `POST /subjects/{subject}/versions`.
    Registered,
    /// Looked up with `POST /subjects/{subject}` (`--no-auto-register`).
    LookedUp,
    /// The subject's latest version, checked to be our schema (`--use-latest-version`).
    Latest,
}

impl Resolution {
    /// The stable word for JSON output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::LookedUp => "looked_up",
            Self::Latest => "latest",
        }
    }
}

/// The schema id for `subject`, as Confluent's serializer settles it, with one registry call:
/// - `use_latest_version`: the subject's latest version, refused unless it describes the `Shoe` we
///   serialize (see [`SubjectSchema::difference_from_ours`](super::SubjectSchema::difference_from_ours));
///   takes precedence, as in Confluent's serializer;
/// - else `auto_register` (default): register `proto/shoe.proto`, which returns the existing id if
///   the subject already holds it;
/// - else look it up only, for read-only API keys.
pub async fn resolve_schema(
    client: &SchemaRegistryClient,
    subject: &str,
    settings: &SchemaSettings,
) -> Result<(u32, Resolution), RegistryError> {
    if settings.use_latest_version {
        let latest = client.latest(subject).await?;
        if let Some(difference) = latest.difference_from_ours() {
            return Err(RegistryError::LatestMismatch {
                url: client.base_url(),
                subject: subject.to_owned(),
                version: latest.version,
                id: latest.id,
                difference,
            });
        }
        Ok((latest.id, Resolution::Latest))
    } else if settings.auto_register {
        let id = client.register(subject, schema::SHOE_PROTO).await?;
        Ok((id, Resolution::Registered))
    } else {
        let found = client.lookup(subject, schema::SHOE_PROTO).await?;
        Ok((found.id, Resolution::LookedUp))
    }
}
