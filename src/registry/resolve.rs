//! The one call the producer makes to the registry: turn the subject and the schema settings into
//! the schema id every record is framed with, once per run.

use super::{client::SchemaRegistryClient, error::RegistryError};
use crate::{app::settings::SchemaSettings, shoe::schema};

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

/// The schema id for `subject`, as Confluent's serializer settles it:
/// - `use_latest_version`: the subject's latest version, refused unless it describes the `Shoe` we
///   serialize (see [`SubjectSchema::difference_from_ours`](super::SubjectSchema::difference_from_ours)); takes precedence, as in Confluent's serializer;
/// - else `auto_register` (default): register `proto/shoe.proto`, which returns the existing id if
///   the subject already holds it;
/// - else look it up only, for read-only API keys.
///
/// The answer is cached in the client per subject and settings, so calling this again costs nothing.
pub async fn resolve_schema_id(
    client: &SchemaRegistryClient,
    subject: &str,
    settings: &SchemaSettings,
) -> Result<u32, RegistryError> {
    resolve_schema(client, subject, settings)
        .await
        .map(|(id, _)| id)
}

/// [`resolve_schema_id`], also saying how the id was obtained.
pub async fn resolve_schema(
    client: &SchemaRegistryClient,
    subject: &str,
    settings: &SchemaSettings,
) -> Result<(u32, Resolution), RegistryError> {
    if let Some(cached) = client.cached_resolution(subject, settings) {
        return Ok(cached);
    }
    let resolved = if settings.use_latest_version {
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
        (latest.id, Resolution::Latest)
    } else if settings.auto_register {
        let id = client.register(subject, schema::SHOE_PROTO).await?;
        (id, Resolution::Registered)
    } else {
        let found = client.lookup(subject, schema::SHOE_PROTO).await?;
        (found.id, Resolution::LookedUp)
    };
    client.cache_resolution(subject, settings, resolved);
    Ok(resolved)
}
