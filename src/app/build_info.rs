//! What `--version` says about the build, as ripgrep lists its build features: the first question of
//! any bug report is which binary ran. The target, profile and commit come from `build.rs`; the
//! allocator and TLS stack are facts of this crate's code and dependencies.

/// The text after the program name in `shoe-producer --version`, e.g.
///
/// ```text
/// 0.1.0
/// commit: 1a2b3c4
/// target: x86_64-unknown-linux-musl (release)
/// allocator: mimalloc
/// tls: rustls (ring), Mozilla roots from webpki-roots
/// ```
///
/// The allocator is the one `src/main.rs` installs. TLS, for Kafka and the Schema Registry alike, is
/// rustls with ring's cryptography, trusting the bundled Mozilla roots plus any CA file given (no
/// OpenSSL, no system CA bundle).
pub(crate) fn long_version() -> &'static str {
    concat!(
        env!("CARGO_PKG_VERSION"),
        "\ncommit: ",
        env!("SHOE_PRODUCER_GIT_COMMIT"),
        "\ntarget: ",
        env!("SHOE_PRODUCER_TARGET"),
        " (",
        env!("SHOE_PRODUCER_PROFILE"),
        ")\nallocator: mimalloc",
        "\ntls: rustls (ring), Mozilla roots from webpki-roots",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_version_commit_target_allocator_and_tls() {
        let text = long_version();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], env!("CARGO_PKG_VERSION"));
        let commit = lines[1].strip_prefix("commit: ").expect("a commit line");
        assert!(
            commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
            "commit is a short hash or unknown: {commit}"
        );
        assert!(lines[2].starts_with(&format!("target: {} (", env!("SHOE_PRODUCER_TARGET"))));
        assert!(lines[2].contains(std::env::consts::ARCH), "{}", lines[2]);
        assert!(lines[3].starts_with("allocator: "), "{}", lines[3]);
        assert!(lines[4].starts_with("tls: rustls (ring)"), "{}", lines[4]);
        assert_eq!(lines.len(), 5);
    }
}
