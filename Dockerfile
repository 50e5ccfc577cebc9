# shoe-producer as a container: the static musl release binary on an empty image.
#
# Stage 1 builds exactly what scripts/release.sh ships for x86_64: the x86_64-unknown-linux-musl
# binary (static-pie, with the allocator chosen in src/main.rs; the script installs musl-tools and checks
# that the binary is static). Stage 2 is `scratch` holding only that binary: TLS trusts the Mozilla roots
# compiled into it, so Confluent Cloud works without a CA bundle, and musl reads /etc/hosts and
# /etc/resolv.conf, which the container runtime provides, with no shared library.
# scripts/ci-release.sh checks the same property without a container engine: the binary alone in a
# chroot (no /etc, no libc) produces to the local stack over SASL_SSL.
#
#   docker build --build-arg SHOE_PRODUCER_GIT_COMMIT="$(git rev-parse --short HEAD)" -t shoe-producer .
#   docker run --rm -e BOOTSTRAP_SERVERS -e KAFKA_API_KEY -e KAFKA_API_SECRET \
#     -e SCHEMA_REGISTRY_URL -e SCHEMA_REGISTRY_API_KEY -e SCHEMA_REGISTRY_API_SECRET \
#     shoe-producer --count 1000

FROM rust:1.95 AS builder
# The build context has no .git (see .dockerignore): --version names the commit given here.
ARG SHOE_PRODUCER_GIT_COMMIT=unknown
ENV SHOE_PRODUCER_GIT_COMMIT=${SHOE_PRODUCER_GIT_COMMIT}
WORKDIR /src
COPY . .
RUN RELEASE_TARGETS=x86_64-unknown-linux-musl scripts/release.sh \
 && cp target/x86_64-unknown-linux-musl/release/shoe-producer /shoe-producer

FROM scratch
COPY --from=builder /shoe-producer /shoe-producer
# No /etc/passwd in scratch: run as an unprivileged numeric user.
USER 65532:65532
ENTRYPOINT ["/shoe-producer"]
