#!/usr/bin/env bash
# Writes the certificates the TLS-classification unit tests read (src/support/tls.rs): a test CA and
# three server certificates it signed, for DNS name shoe-test.example and IP 127.0.0.1 — one valid
# until 2100, one that expired in 2001, one not valid before 2090. Keys are thrown away: the tests only
# verify certificates. Run from anywhere; rewrites the .pem files next to this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -subj "/CN=shoe-producer test CA" -days 36500 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

mkdir -p db/new && : > db/index.txt && echo 1000 > db/serial
cat > ca.cnf <<'CNF'
[ca]
default_ca = test
[test]
dir = ./db
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
certificate = ./ca.pem
private_key = ./ca.key
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
x509_extensions = server
[any]
commonName = supplied
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:shoe-test.example,IP:127.0.0.1
CNF

issue() { # name start end
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=shoe-test.example" 2>/dev/null
  openssl ca -batch -config ca.cnf -in "$1.csr" -out "$1.pem" -startdate "$2" -enddate "$3" \
    -notext 2>/dev/null
}
issue valid 20000101000000Z 21000101000000Z
issue expired 20000101000000Z 20010101000000Z
issue not-yet-valid 20900101000000Z 20910101000000Z

cp ca.pem valid.pem expired.pem not-yet-valid.pem "$here/"
