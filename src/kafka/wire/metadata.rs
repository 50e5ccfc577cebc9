//! The Metadata request as this client always sends it: for named topics (or none), never asking
//! the broker to create a topic it does not know.

use rskafka::{
    messenger::{Messenger, RequestError},
    protocol::{
        messages::{MetadataRequest, MetadataRequestTopic, MetadataResponse, WriteVersionedError},
        primitives::{Boolean, String_},
    },
};
use tokio::io::{AsyncRead, AsyncWrite};

/// Requests metadata for `topics` (none: brokers only) without ever asking for auto-creation.
pub(crate) async fn request_metadata<T>(
    connection: &Messenger<T>,
    topics: &[&str],
) -> Result<MetadataResponse, RequestError>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let request = |allow_auto_topic_creation| MetadataRequest {
        topics: Some(
            topics
                .iter()
                .map(|t| MetadataRequestTopic {
                    name: String_((*t).to_owned()),
                })
                .collect(),
        ),
        allow_auto_topic_creation,
    };
    match connection.request(&request(Some(Boolean(false)))).await {
        // Brokers older than Metadata v4 cannot carry the flag; they auto-create only if configured
        // to, which Confluent Cloud is not.
        Err(RequestError::WriteError(WriteVersionedError::FieldNotAvailable { .. })) => {
            connection.request(&request(None)).await
        }
        other => other,
    }
}
