# shoe-producer as a container: a static binary on an empty image.
#
# Stage 1 builds a statically linked binary (glibc with +crt-static, static-pie). glibc 2.34+ has the
# files and dns name services built in, so host names resolve from the /etc/hosts and /etc/resolv.conf
# that the container runtime provides, with no shared library. Stage 2 is `scratch` holding only that
# binary: TLS trusts the Mozilla roots compiled into it, so Confluent Cloud works without a CA bundle.
#
#   docker build -t shoe-producer .
#   docker run --rm -e BOOTSTRAP_SERVERS -e KAFKA_API_KEY -e KAFKA_API_SECRET \
#     -e SCHEMA_REGISTRY_URL -e SCHEMA_REGISTRY_API_KEY -e SCHEMA_REGISTRY_API_SECRET \
#     shoe-producer --count 1000

FROM rust:1.95 AS builder
WORKDIR /src
COPY . .
# --target keeps RUSTFLAGS off build scripts and proc macros, which must stay dynamic.
RUN RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --target x86_64-unknown-linux-gnu \
 && cp target/x86_64-unknown-linux-gnu/release/shoe-producer /shoe-producer

FROM scratch
COPY --from=builder /shoe-producer /shoe-producer
# No /etc/passwd in scratch: run as an unprivileged numeric user.
USER 65532:65532
ENTRYPOINT ["/shoe-producer"]
