//! Compiles `proto/shoe.proto` into Rust types at build time with `protox` (a pure-Rust protobuf compiler),
//! so building needs no `protoc` binary. The encoded file descriptor set is kept too: the wire format
//! derives Confluent's message indexes from it instead of hard-coding them.
//!
//! It also hands the build's facts to `--version` (which build a user runs is the first question of any
//! bug report): `SHOE_PRODUCER_TARGET` (the target triple), `SHOE_PRODUCER_PROFILE` and
//! `SHOE_PRODUCER_GIT_COMMIT` (the short commit, or `unknown` outside a git checkout of this crate,
//! e.g. when built from the packaged crate by `cargo install`; a variable of that name set for the build
//! takes precedence, for builds without .git).

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/shoe.proto");
    let descriptors = protox::compile(["proto/shoe.proto"], ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("shoe_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    prost_build::Config::new().compile_fds(descriptors)?;

    // musl's x86_64 memcpy is slow for the many short copies a produce run makes (native/musl_memcpy.c).
    // Its aarch64 memcpy (Arm's optimized routine) is kept: this one measured no faster there.
    if env::var("CARGO_CFG_TARGET_ENV")? == "musl" && env::var("CARGO_CFG_TARGET_ARCH")? == "x86_64"
    {
        println!("cargo:rerun-if-changed=native/musl_memcpy.c");
        cc::Build::new()
            .file("native/musl_memcpy.c")
            .opt_level(2)
            .flag("-ffreestanding")
            .flag("-fno-builtin")
            .flag("-fno-tree-loop-distribute-patterns")
            .compile("shoe_producer_memcpy");
    }

    println!(
        "cargo:rustc-env=SHOE_PRODUCER_TARGET={}",
        env::var("TARGET")?
    );
    println!(
        "cargo:rustc-env=SHOE_PRODUCER_PROFILE={}",
        env::var("PROFILE")?
    );
    // A build without .git (a container build context) can name its commit in the same variable.
    println!("cargo:rerun-if-env-changed=SHOE_PRODUCER_GIT_COMMIT");
    let given = env::var("SHOE_PRODUCER_GIT_COMMIT").ok();
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let commit = given
        .map(|commit| commit.trim().to_owned())
        .filter(|commit| !commit.is_empty())
        .or_else(|| git_commit(&manifest_dir))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SHOE_PRODUCER_GIT_COMMIT={commit}");
    Ok(())
}

/// The short commit of the checkout whose top level is `dir`, or `None` when `dir` is not the top of a
/// git work tree (a packaged crate unpacked somewhere, possibly inside another repository) or git is
/// missing. Asks cargo to run this again when HEAD or the branch it names moves.
fn git_commit(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
    };
    let top_level = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    if top_level.canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    for file in ["HEAD", "packed-refs"] {
        watch(git(&["rev-parse", "--git-path", file]), dir);
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(git(&["rev-parse", "--git-path", &branch]), dir);
    }
    git(&["rev-parse", "--short", "HEAD"])
}

/// Reruns the build script when `path` (relative to `dir` unless absolute) changes, if it exists: cargo
/// would rerun on every build for a path that does not.
fn watch(path: Option<String>, dir: &Path) {
    if let Some(path) = path.map(|path| dir.join(path)) {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
