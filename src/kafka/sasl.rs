//! The SASL exchange on a new broker connection: `SaslHandshake`, then `SaslAuthenticate` rounds
//! driven by rsasl (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).
//!
//! rskafka's `Messenger::do_sasl` runs the same exchange but drops the broker's last answer, whose
//! `session_lifetime_ms` (KIP-368, `connections.max.reauth.ms` on the broker) says when the broker
//! will close the connection at its next request. Keeping that figure lets the cluster replace a
//! connection before its session ends instead of losing the requests in flight on it.

use std::{io::Cursor, time::Duration};

use rsasl::{config::SASLConfig, mechname::Mechname, prelude::SASLClient};
use rskafka::{
    client::SaslConfig,
    messenger::{Messenger, SaslError},
    protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest},
};
use tokio::io::{AsyncRead, AsyncWrite};

/// Authenticates `messenger` with `config`; returns the session lifetime the broker granted, when
/// it set one (a broker without `connections.max.reauth.ms`, or before Kafka 2.2, sets none).
pub(crate) async fn authenticate<T>(
    messenger: &Messenger<T>,
    config: &SaslConfig,
) -> Result<Option<Duration>, SaslError>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mechanism, credentials) = match config {
        SaslConfig::Plain(c) => ("PLAIN", c),
        SaslConfig::ScramSha256(c) => ("SCRAM-SHA-256", c),
        SaslConfig::ScramSha512(c) => ("SCRAM-SHA-512", c),
        // Never built by this client: it offers no OAUTHBEARER setting.
        SaslConfig::Oauthbearer(_) => return Err(SaslError::UnsupportedSaslMechanism),
    };
    let handshake = messenger
        .request(SaslHandshakeRequest::new(mechanism))
        .await?;
    if let Some(error) = handshake.error_code {
        return Err(SaslError::ApiError(error));
    }
    let offered = handshake.mechanisms.0.unwrap_or_default();
    if !offered.iter().any(|m| m.0 == mechanism) {
        return Err(SaslError::UnsupportedSaslMechanism);
    }
    let rsasl_config = SASLConfig::with_credentials(
        None,
        credentials.username.clone(),
        credentials.password.clone(),
    )?;
    let wanted = Mechname::parse(mechanism.as_bytes())?;
    let mut session = SASLClient::new(rsasl_config)
        .start_suggested(&[wanted])
        .map_err(|_| SaslError::UnsupportedSaslMechanism)?;
    let mut received: Option<Vec<u8>> = None;
    let mut lifetime = None;
    loop {
        let mut to_send = Cursor::new(Vec::new());
        let state = session.step(received.as_deref(), &mut to_send)?;
        if state.has_sent_message() {
            let answer = messenger
                .request(SaslAuthenticateRequest::new(to_send.into_inner()))
                .await?;
            if let Some(error) = answer.error_code {
                return Err(SaslError::ApiError(error));
            }
            lifetime = answer
                .session_lifetime_ms
                .map(|ms| ms.0)
                .filter(|&ms| ms > 0)
                .map(|ms| Duration::from_millis(ms.unsigned_abs()));
            received = Some(answer.auth_bytes.0);
        }
        if state.is_finished() {
            return Ok(lifetime);
        }
    }
}
