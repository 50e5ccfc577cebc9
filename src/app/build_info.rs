//! What `--version` says about the build, as ripgrep lists its build features: the first question of
//! any bug report is which binary ran. The target, profile and commit come from `build.rs`; the
//! allocator and TLS stack are facts of this crate's code and dependencies.

/// The memory allocator and `memcpy`, as `src/main.rs` and `build.rs` choose them: on x86_64 musl,
/// jemalloc and this crate's `memcpy` (musl's own cost 2.5x glibc's CPU in a produce run); on aarch64
/// musl, jemalloc and musl's `memcpy`; elsewhere the C library's.
const MEMORY: &str = if cfg!(all(target_env = "musl", target_arch = "x86_64")) {
    "jemalloc, memcpy from native/musl_memcpy.c"
} else if cfg!(all(target_env = "musl", target_arch = "aarch64")) {
    "jemalloc, musl memcpy"
} else if cfg!(target_env = "musl") {
    "musl malloc and memcpy"
} else if cfg!(target_env = "gnu") {
    "glibc malloc and memcpy"
} else {
    "the system's malloc and memcpy"
};

/// The text after the program name in `shoe-producer --version`, e.g.
///
/// ```text
/// 0.1.0
/// commit: 1a2b3c4
/// target: x86_64-unknown-linux-musl (release)
/// memory: jemalloc, memcpy from native/musl_memcpy.c
/// tls: rustls (ring), Mozilla roots from webpki-roots
/// ```
///
/// TLS, for Kafka and the Schema Registry alike, is rustls with ring's cryptography, trusting the
/// bundled Mozilla roots plus any CA file given (no OpenSSL, no system CA bundle).
pub(crate) fn long_version() -> &'static str {
    static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "{}\ncommit: {}\ntarget: {} ({})\nmemory: {MEMORY}\ntls: {TLS}",
            env!("CARGO_PKG_VERSION"),
            env!("SHOE_PRODUCER_GIT_COMMIT"),
            env!("SHOE_PRODUCER_TARGET"),
            env!("SHOE_PRODUCER_PROFILE"),
        )
    });
    &TEXT
}

const TLS: &str = "rustls (ring), Mozilla roots from webpki-roots";

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
        assert_eq!(lines[3], format!("memory: {MEMORY}"));
        assert_eq!(lines[4], format!("tls: {TLS}"));
        assert_eq!(lines.len(), 5);
    }
}
