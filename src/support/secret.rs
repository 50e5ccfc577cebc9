//! A string that must never be printed: API secrets for Kafka and the Schema Registry.
//!
//! `Debug` and `Display` both print `***`, so a secret can sit inside any config or error type
//! without leaking through logs, panics or `{:?}`. The only way to read it is [`Secret::expose`].

use std::fmt;

/// An API secret. Printing it in any form shows `***`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's text, for the one place that must send it (SASL, HTTP Basic auth).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let secret = Secret::new("hunter2-distinctive");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{:#?}", Some(secret.clone())), "Some(\n    ***,\n)");
        assert_eq!(secret.expose(), "hunter2-distinctive");
    }
}
