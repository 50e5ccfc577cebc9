#!/usr/bin/env bash
# release.sh [VERSION] — the release archives users download: static musl binaries for x86_64 and aarch64.
#
# Writes dist/shoe-producer-VERSION-TARGET.tar.gz for each target (the `shoe-producer` binary, README.md,
# LICENSE and, when the binary can print it, the man page shoe-producer.1) and dist/SHA256SUMS.
# VERSION defaults to the version in Cargo.toml, and must equal it: the binary reports that version.
#
# Toolchain (installed when missing; Debian packages need root, otherwise the exact command is printed):
#   rustup targets   x86_64-unknown-linux-musl, aarch64-unknown-linux-musl
#   x86_64 C code    musl-gcc (musl-tools): ring, lz4, zstd and the allocator compile C against musl's headers
#   aarch64 C code   aarch64-linux-musl-gcc: gcc-aarch64-linux-gnu driven by musl's arm64 headers and specs
#                    (musl-dev:arm64, Debian multiarch). gcc-aarch64-linux-gnu alone has no libc headers,
#                    and glibc's differ from musl's (e.g. the size of pthread_mutex_t). Its out-of-line
#                    atomics need glibc's __getauxval, so the allocator (jemalloc, as on x86_64) is compiled
#                    with -mno-outline-atomics (.cargo/config.toml).
#   linking          rustc's own bundled musl (crt objects and libc.a); aarch64 links through
#                    aarch64-linux-gnu-gcc. The binaries are static-pie and checked with `file`.
# .cargo/config.toml names these compilers and the linker, so a plain `cargo build --target …` agrees.
#
# Archives are reproducible: entries sorted, mtimes set to SOURCE_DATE_EPOCH (default: the last commit's
# time), owner and group 0, gzip without name or time stamp: two runs over the same binaries give the same
# bytes.
#
# Environment: RELEASE_TARGETS (default: both targets), CARGO_TARGET_DIR (default: target/),
# SOURCE_DATE_EPOCH. Exit codes: 0 done, 1 a step failed, 2 bad VERSION or a missing tool it may not install.
set -euo pipefail

readonly REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly TARGETS="${RELEASE_TARGETS:-x86_64-unknown-linux-musl aarch64-unknown-linux-musl}"

die() { printf 'release.sh: %s\n' "$1" >&2; exit "${2:-1}"; }
step() { printf '==> %s\n' "$*" >&2; }

cd "$REPO_DIR"
readonly TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_DIR/target}"
readonly DIST="$REPO_DIR/dist"

# ---- version ---------------------------------------------------------------------------------------------
crate_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[[ -n "$crate_version" ]] || die "cannot read the version from Cargo.toml"
readonly VERSION="${1:-$crate_version}"
[[ "$VERSION" == "$crate_version" ]] \
  || die "VERSION '$VERSION' differs from Cargo.toml's version '$crate_version', which the binary reports: set it in Cargo.toml first" 2

# ---- tools -----------------------------------------------------------------------------------------------
apt_packages=()
command -v file >/dev/null 2>&1 || apt_packages+=(file)
for target in $TARGETS; do
  case "$target" in
    x86_64-unknown-linux-musl)
      command -v musl-gcc >/dev/null 2>&1 || apt_packages+=(musl-tools) ;;
    aarch64-unknown-linux-musl)
      command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || apt_packages+=(gcc-aarch64-linux-gnu)
      command -v aarch64-linux-musl-gcc >/dev/null 2>&1 || apt_packages+=(musl-dev:arm64) ;;
    *) die "unsupported target '$target' in RELEASE_TARGETS (x86_64-unknown-linux-musl, aarch64-unknown-linux-musl)" 2 ;;
  esac
done
if ((${#apt_packages[@]})); then
  install_cmd="apt-get update && apt-get install -y --no-install-recommends ${apt_packages[*]}"
  [[ " ${apt_packages[*]} " != *:arm64* ]] || install_cmd="dpkg --add-architecture arm64 && $install_cmd"
  [[ "$(id -u)" == 0 ]] || die "missing build tools; as root run: $install_cmd" 2
  step "installing ${apt_packages[*]}"
  [[ " ${apt_packages[*]} " != *:arm64* ]] || dpkg --add-architecture arm64
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi
command -v rustup >/dev/null 2>&1 || die "rustup is missing: install Rust with rustup (it adds the musl targets)" 2
installed_targets="$(rustup target list --installed)"
for target in $TARGETS; do
  grep -qx "$target" <<<"$installed_targets" || { step "rustup target add $target"; rustup target add "$target"; }
done

# ---- build -----------------------------------------------------------------------------------------------
for target in $TARGETS; do
  step "cargo build --locked --release --target $target"
  cargo build --locked --release --target "$target"
  binary="$TARGET_DIR/$target/release/shoe-producer"
  description="$(file -b "$binary")"
  [[ "$description" == *"static-pie linked"* || "$description" == *"statically linked"* ]] \
    || die "$binary is not static: $description"
  printf '    %s\n' "$description" >&2
done

# ---- archives --------------------------------------------------------------------------------------------
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
[[ "$SOURCE_DATE_EPOCH" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be seconds since 1970, got '$SOURCE_DATE_EPOCH'" 2
mkdir -p "$DIST"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT

# The man page is printed by the binary itself when it can (`shoe-producer man`); it is the same for every
# target, so the first binary that runs on this machine writes it.
page="$staging/shoe-producer.1"
for target in $TARGETS; do
  binary="$TARGET_DIR/$target/release/shoe-producer"
  if "$binary" man >/dev/null 2>&1; then
    "$binary" man >"$page"
    break
  fi
done

archives=()
for target in $TARGETS; do
  name="shoe-producer-$VERSION-$target"
  dir="$staging/$name"
  mkdir -m 0755 "$dir"
  install -m 0755 "$TARGET_DIR/$target/release/shoe-producer" "$dir/shoe-producer"
  install -m 0644 README.md LICENSE "$dir/"
  [[ ! -s "$page" ]] || install -m 0644 "$page" "$dir/shoe-producer.1"
  # Reproducible: sorted names, fixed times and owners, no name or time stamp in the gzip header.
  tar --format=ustar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    -C "$staging" -cf - "$name" | gzip -9 -n >"$DIST/$name.tar.gz"
  archives+=("$name.tar.gz")
  printf '    dist/%s: %s bytes (%s)\n' "$name.tar.gz" "$(stat -c %s "$DIST/$name.tar.gz")" \
    "$(tar -tzf "$DIST/$name.tar.gz" | sed 's|^[^/]*/||' | grep . | paste -sd ' ')" >&2
done

(cd "$DIST" && sha256sum "${archives[@]}" >SHA256SUMS && sha256sum --quiet -c SHA256SUMS)
step "dist/SHA256SUMS"
cat "$DIST/SHA256SUMS"
