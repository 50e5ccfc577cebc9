//! Setting values that are only ever built valid: the broker list and the registry URL.
//!
//! Constructing one is the only check; whoever holds one (the connection layer, the registry client)
//! can rely on its shape instead of checking it again. The error of a constructor is the reason
//! alone (what is wrong and what to write instead); the caller adds which setting it was.

use std::{fmt, net::Ipv6Addr, ops::Deref};

use crate::support::quoted::quoted;

/// The bootstrap brokers: one or more `host:port` pairs (IPv6 hosts in brackets), each with a port
/// from 1 to 65535, kept in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapServers(Vec<String>);

impl BootstrapServers {
    /// Reads `host:port[,host:port…]`; spaces around entries and empty entries are ignored.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut servers = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            servers.push(server(entry)?);
        }
        if servers.is_empty() {
            return Err("no host:port given; write e.g. broker-1:9092,broker-2:9092".to_owned());
        }
        Ok(Self(servers))
    }

    #[cfg(test)]
    /// The `host:port` pairs.
    pub(crate) fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// One `host:port`, normalized (the port without leading zeros).
fn server(entry: &str) -> Result<String, String> {
    if entry.contains("://") {
        return Err(format!(
            "{} has a scheme; write host:port only and choose the protocol with --security-protocol",
            quoted(entry)
        ));
    }
    if entry.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(format!(
            "{} holds a control character; write host:port",
            quoted(entry)
        ));
    }
    if let Some(separator) = entry.find(|c: char| c == ';' || c.is_whitespace()) {
        let what = if entry[separator..].starts_with(';') {
            "a ';'"
        } else {
            "a space"
        };
        let commas = entry
            .split(|c: char| c == ';' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(",");
        return Err(format!(
            "{} holds {what}; separate servers with commas, e.g. {}",
            quoted(entry),
            quoted(&commas)
        ));
    }
    if entry.starts_with('[') && entry.ends_with(']') {
        return Err(format!(
            "{} has no port; write host:port, e.g. {}",
            quoted(entry),
            quoted(&format!("{entry}:9092"))
        ));
    }
    let (host, port) = match entry.rsplit_once(':') {
        Some((host, port)) if host.starts_with('[') => {
            if !host.ends_with(']') || host.len() < 3 {
                return Err(format!(
                    "{} is not [IPv6 address]:port; write e.g. [::1]:9092",
                    quoted(entry)
                ));
            }
            (host, port)
        }
        Some((host, _)) if host.contains(':') => return Err(unbracketed_ipv6(entry)),
        Some((host, port)) if !host.is_empty() => (host, port),
        _ => {
            return Err(format!(
                "{} has no port; write host:port, e.g. {}",
                quoted(entry),
                quoted(&format!("{}:9092", entry.trim_end_matches(':')))
            ))
        }
    };
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(format!("{host}:{port}")),
        _ => Err(format!(
            "{} has an invalid port {}; write host:port with a port from 1 to 65535",
            quoted(entry),
            quoted(port)
        )),
    }
}

/// The message for an IPv6 address written without brackets, e.g. `::1:9093`: its last group is
/// taken as the port, which is what such a value almost always means.
fn unbracketed_ipv6(entry: &str) -> String {
    let suggestion = match entry.rsplit_once(':') {
        Some((address, port))
            if address.parse::<Ipv6Addr>().is_ok() && port.parse::<u16>().is_ok_and(|p| p > 0) =>
        {
            format!("[{address}]:{port}")
        }
        _ => format!("[{entry}]:9092"),
    };
    format!(
        "{} looks like an IPv6 address without brackets; write [address]:port, e.g. {}",
        quoted(entry),
        quoted(&suggestion)
    )
}

impl Deref for BootstrapServers {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a BootstrapServers {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for BootstrapServers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// The Schema Registry's base URL: `http://` or `https://`, with a host, without credentials, query
/// or fragment, and without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryUrl {
    text: String,
    url: url::Url,
}

impl RegistryUrl {
    /// Checks `text`. The URL is quoted in a reason only once it is known to hold neither
    /// credentials nor a query (a query may carry a token).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let example = "write e.g. https://psrc-xxxxx.region.provider.confluent.cloud";
        let url = url::Url::parse(text).map_err(|e| format!("not a valid URL ({e}); {example}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "the URL holds credentials; remove `user:password@` and set \
                 --schema-registry-api-key and --schema-registry-api-secret instead"
                    .to_owned(),
            );
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(
                "the URL has a query or fragment; give the registry's base URL only".to_owned(),
            );
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "{} is not an http:// or https:// URL; {example}",
                quoted(text)
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{} has no host; {example}", quoted(text)));
        }
        let text = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self { text, url })
    }

    #[cfg(test)]
    /// The parsed URL.
    pub(crate) fn as_url(&self) -> &url::Url {
        &self.url
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the registry is reached over TLS.
    pub(crate) fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }
}

impl Deref for RegistryUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(text: &str) -> Result<Vec<String>, String> {
        BootstrapServers::parse(text).map(|s| s.to_vec())
    }

    #[test]
    fn broker_lists() {
        assert_eq!(
            servers(" broker-1:9092, [::1]:09093 ,,").unwrap(),
            ["broker-1:9092", "[::1]:9093"]
        );
        assert!(servers(" , ")
            .unwrap_err()
            .starts_with("no host:port given"));
        assert_eq!(
            servers("broker-1").unwrap_err(),
            "'broker-1' has no port; write host:port, e.g. 'broker-1:9092'"
        );
        assert!(servers("b:99999")
            .unwrap_err()
            .contains("invalid port '99999'"));
        assert!(servers("b:0").unwrap_err().contains("invalid port"));
        assert!(servers("SASL_SSL://b:1").unwrap_err().contains("scheme"));
        assert!(servers("[::1]").unwrap_err().contains("no port"));
        assert!(servers("[]:1").unwrap_err().contains("[::1]:9092"));
    }

    #[test]
    fn unbracketed_ipv6_suggests_brackets() {
        let message = servers("::1:9093").unwrap_err();
        assert!(message.contains("e.g. '[::1]:9093'"), "{message}");
        let message = servers("fe80::1").unwrap_err();
        assert!(message.contains("[fe80::1]:9092"), "{message}");
    }

    #[test]
    fn semicolons_and_spaces_suggest_commas() {
        let message = servers("a:1;b:2").unwrap_err();
        assert!(message.contains("holds a ';'"), "{message}");
        assert!(message.contains("e.g. 'a:1,b:2'"), "{message}");
        let message = servers("a:1 b:2").unwrap_err();
        assert!(message.contains("holds a space"), "{message}");
        assert!(message.contains("e.g. 'a:1,b:2'"), "{message}");
        assert_eq!(
            servers("a\x01b:9092").unwrap_err(),
            r"'a\x01b:9092' holds a control character; write host:port"
        );
        let message = servers("a:1\nb:2").unwrap_err();
        assert!(
            message.starts_with(r"'a:1\nb:2' holds a space"),
            "{message}"
        );
    }

    #[test]
    fn the_list_reads_like_a_slice() {
        let list = BootstrapServers::parse("a:1,b:2").unwrap();
        assert_eq!(list.join(","), "a:1,b:2");
        assert_eq!(list.to_string(), "a:1,b:2");
        assert_eq!((&list).into_iter().count(), 2);
    }

    #[test]
    fn registry_urls() {
        let url = RegistryUrl::parse("https://registry.example:8443/apis/ccompat/v7/").unwrap();
        assert_eq!(&*url, "https://registry.example:8443/apis/ccompat/v7");
        assert!(url.is_https());
        assert_eq!(url.as_url().port(), Some(8443));
        assert!(RegistryUrl::parse("ftp://r:21")
            .unwrap_err()
            .starts_with("'ftp://r:21' is not an http"));
        let message = RegistryUrl::parse("https://user:pw-distinctive@r").unwrap_err();
        assert!(
            message.contains("credentials") && !message.contains("pw-distinctive"),
            "{message}"
        );
        let message = RegistryUrl::parse("ftp://r/?token=tk-distinctive").unwrap_err();
        assert!(
            message.contains("query") && !message.contains("tk-distinctive"),
            "{message}"
        );
        assert!(RegistryUrl::parse("registry:8081").is_err());
        assert!(RegistryUrl::parse("http://").is_err());
    }
}
