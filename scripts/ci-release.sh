#!/usr/bin/env bash
# ci-release.sh — checks what users get, as they get it: the release archives, the packaged crate,
# `cargo install`, and the declared minimum Rust version. .ci/run calls it after the test suite.
#
#   1. scripts/release.sh builds both static musl archives and SHA256SUMS; the checksums verify, each
#      archive holds the binary, README.md, LICENSE (and the man page when the binary prints one), and a
#      second run writes the same bytes.
#   2. The x86_64 binary from the archive runs the end-to-end tests (producer_binary::) in place of the
#      cargo-built one (SHOE_PRODUCER_BIN), against the local stack.
#   3. Empty root: the same binary, alone in a directory with the stack's CA file, chrooted as an
#      unprivileged user (no /etc, no libc, no CA bundle, no /proc), produces over SASL_SSL: exit 0, all
#      acked. That is what the `FROM scratch` image holds (the Dockerfile copies this binary alone).
#   4. The aarch64 binary under qemu-user: --version names its target, and `sample --count 20 --seed 42`
#      prints the same bytes as the x86_64 binary.
#   5. cargo package --locked builds the packaged crate; its tests and benches type-check from the
#      package alone (so proto/, build.rs, testdata/ are in it).
#   6. cargo install --path . --locked (into a temporary root), reusing the musl release build.
#
# (The declared rust-version is checked by .ci/run itself, before the tests.)
# Each step's wall time is printed at the end. Needs the local stack (brought up if it is down), root
# (chroot) and, when missing, installs qemu-user-static.
# Exit codes: 0 all checks passed, 1 a check failed.
set -euo pipefail

readonly REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_DIR"

die() { printf 'ci-release.sh: %s\n' "$1" >&2; exit 1; }
timings=()
# timed NAME COMMAND…: runs a step and records its wall time.
timed() {
  local name="$1" started
  shift
  printf '==> %s\n' "$name" >&2
  started=$(date +%s)
  "$@"
  timings+=("$(printf '%5d s  %s' "$(( $(date +%s) - started ))" "$name")")
}

work="$(mktemp -d)"
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[[ -n "$version" ]] || die "cannot read the version from Cargo.toml"
x86="$work/x86_64/shoe-producer"
arm="$work/aarch64/shoe-producer"

# ---- 1. release archives ---------------------------------------------------------------------------------
unpack() { # TARGET DIR: verifies the archive of TARGET against SHA256SUMS and unpacks it into DIR
  local name="shoe-producer-$version-$1" expected
  (cd dist && grep " $name.tar.gz\$" SHA256SUMS | sha256sum --quiet -c -) || die "$name.tar.gz does not match SHA256SUMS"
  mkdir -p "$2"
  tar -xzf "dist/$name.tar.gz" -C "$2" --strip-components=1
  expected="LICENSE README.md shoe-producer"
  if "$x86" man >/dev/null 2>&1; then expected="LICENSE README.md shoe-producer shoe-producer.1"; fi
  [[ "$(ls "$2" | sort | paste -sd ' ')" == "$expected" ]] \
    || die "$name.tar.gz holds '$(ls "$2" | paste -sd ' ')', expected '$expected'"
}
release() {
  scripts/release.sh
  # Reproducible archives: a second run over the same binaries writes the same bytes.
  cp dist/SHA256SUMS "$work/SHA256SUMS.first"
  scripts/release.sh
  cmp dist/SHA256SUMS "$work/SHA256SUMS.first" || die "a second scripts/release.sh wrote different archives"
  # The man page test runs the x86_64 binary, so that archive is unpacked first.
  unpack x86_64-unknown-linux-musl "$work/x86_64"
  unpack aarch64-unknown-linux-musl "$work/aarch64"
  "$x86" --version
}
timed "release archives (scripts/release.sh)" release

# ---- 2. end-to-end tests with the released binary ----------------------------------------------------------
scripts/local-stack.sh up >/dev/null
eval "$(scripts/local-stack.sh env)"
timed "end-to-end tests with the x86_64 musl binary" \
  env SHOE_PRODUCER_BIN="$x86" scripts/test.sh producer_binary::

# ---- 3. an empty root, as in the FROM scratch image ----------------------------------------------------------
empty_root() {
  local root="$work/root" topic="ci-empty-root-$$" out status=0 chroot
  chroot="$(command -v chroot)" || die "chroot is missing (coreutils)"
  mkdir -m 0755 "$root"
  install -m 0755 "$x86" "$root/shoe-producer"
  install -m 0644 "$KAFKA_SSL_CA_LOCATION" "$root/ca.pem"
  [[ "$(cd "$root" && find . -mindepth 1 | sort | paste -sd ' ')" == "./ca.pem ./shoe-producer" ]] \
    || die "the empty root holds more than the binary and the CA file"
  out="$(env -i BOOTSTRAP_SERVERS="$BOOTSTRAP_SERVERS" KAFKA_API_KEY="$KAFKA_API_KEY" \
    KAFKA_API_SECRET="$KAFKA_API_SECRET" KAFKA_SSL_CA_LOCATION=/ca.pem \
    SCHEMA_REGISTRY_URL="$SCHEMA_REGISTRY_URL" SCHEMA_REGISTRY_API_KEY="$SCHEMA_REGISTRY_API_KEY" \
    SCHEMA_REGISTRY_API_SECRET="$SCHEMA_REGISTRY_API_SECRET" SCHEMA_REGISTRY_SSL_CA_LOCATION=/ca.pem \
    "$chroot" --userspec=65532:65532 "$root" /shoe-producer --topic "$topic" --create-topic \
    --count 20000 --log-format json --progress-interval 0s)" || status=$?
  printf '%s\n' "$out" | tail -n 1
  [[ $status == 0 ]] || die "the binary in an empty root exited with $status"
  printf '%s\n' "$out" | grep '"event":"summary"' | grep '"acked":20000' | grep -q '"failed":0' \
    || die "the binary in an empty root did not report 20000 acked, 0 failed"
}
timed "empty root (chroot: binary + CA file only) over SASL_SSL" empty_root

# ---- 4. aarch64 under qemu-user ------------------------------------------------------------------------------
aarch64_under_qemu() {
  if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
  fi
  local banner
  banner="$(qemu-aarch64-static "$arm" --version)"
  printf '%s\n' "$banner"
  [[ "$banner" == *"$version"* && "$banner" == *aarch64-unknown-linux-musl* ]] \
    || die "the aarch64 binary's --version does not name $version and aarch64-unknown-linux-musl"
  qemu-aarch64-static "$arm" sample --count 20 --seed 42 >"$work/sample-aarch64.jsonl"
  "$x86" sample --count 20 --seed 42 >"$work/sample-x86_64.jsonl"
  [[ $(wc -l <"$work/sample-x86_64.jsonl") == 20 ]] || die "sample did not print 20 lines"
  cmp "$work/sample-x86_64.jsonl" "$work/sample-aarch64.jsonl" \
    || die "aarch64 and x86_64 print different shoes for the same seed"
}
timed "aarch64 binary under qemu-user (--version, sample)" aarch64_under_qemu

# ---- 5. the packaged crate ---------------------------------------------------------------------------------
package() {
  cargo package --locked
  # Its own target directory: the packaged crate has the same name and version as this checkout, so in
  # target/ its build would take over the checkout's fingerprints and later edits would not be rebuilt.
  CARGO_TARGET_DIR="$REPO_DIR/target/package-check" cargo check --locked --all-targets \
    --manifest-path "target/package/shoe-producer-$version/Cargo.toml"
}
timed "cargo package --locked, and its tests and benches checked" package

# ---- 6. cargo install --------------------------------------------------------------------------------------
install_crate() {
  cargo install --locked --path . --root "$work/install" --target x86_64-unknown-linux-musl
  "$work/install/bin/shoe-producer" --version
}
timed "cargo install --path . --locked" install_crate

printf '==> release checks passed; wall time per step:\n'
printf '%s\n' "${timings[@]}"
