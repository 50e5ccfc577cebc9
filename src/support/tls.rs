//! One rustls `ClientConfig` for every TLS connection we open (Kafka brokers and the Schema Registry).
//!
//! Trust comes from the bundled Mozilla roots (`webpki-roots`), so the binary works on a host without a
//! CA bundle (a `FROM scratch` image), plus an optional PEM file of extra CAs (a private or test CA).
//! The crypto provider is `ring`: no C toolchain or OpenSSL needed, and no process-wide default is set.

use std::{path::Path, sync::Arc};

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::{pem::PemObject, CertificateDer};

/// Why a TLS configuration could not be built. The caller names the flag or variable that gave the path.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read CA file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("CA file {path} holds no PEM certificate")]
    Empty { path: String },
    #[error("CA file {path} is not valid PEM: {reason}")]
    Invalid { path: String, reason: String },
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Reads every certificate in a PEM file, failing if it has none.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| TlsConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::Invalid {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::Empty { path: shown });
    }
    Ok(certs)
}

/// Builds a client config trusting the bundled Mozilla roots plus the certificates of `extra_ca`.
pub fn client_config(extra_ca: Option<&Path>) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_ca {
        for cert in read_ca_file(path)? {
            roots.add(cert)?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn bundled_roots_alone_build() {
        let config = client_config(None).unwrap();
        assert!(config.alpn_protocols.is_empty());
    }

    #[test]
    fn missing_ca_file_is_a_read_error() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(matches!(err, TlsConfigError::Read { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"));
    }

    #[test]
    fn file_without_certificates_is_rejected() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "not a certificate").unwrap();
        let err = client_config(Some(file.path())).unwrap_err();
        assert!(matches!(err, TlsConfigError::Empty { .. }), "{err}");
    }
}
