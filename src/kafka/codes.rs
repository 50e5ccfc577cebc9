//! Kafka's error codes by their documented names (`NOT_LEADER_OR_FOLLOWER`), as messages, logs and
//! per-error metrics show them.

use rskafka::client::error::ProtocolError;

/// Kafka's documented name of a protocol error (`NOT_LEADER_OR_FOLLOWER`).
pub fn protocol_error_name(error: ProtocolError) -> String {
    if let ProtocolError::Unknown(code) = error {
        return format!("UNKNOWN_ERROR_CODE_{code}");
    }
    let camel = format!("{error:?}");
    let mut name = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}
