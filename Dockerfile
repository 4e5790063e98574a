# syntax=docker/dockerfile:1
# The one image of every role: the chart runs `switchboard serve <role>` and `switchboard migrate`
# from it. Build from the repository's root:
#   docker build -t switchboard:0.1.0 .
# The runtime is distroless (gcr.io/distroless/cc-debian12): glibc, libgcc, CA certificates and
# nothing else, no shell. TLS is rustls and time zones are compiled in, so nothing more is needed.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
COPY . .
# The caches keep the registry and the compiled dependencies between builds on one machine.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p switchboard-cli --bin switchboard \
    && install -D -m 0755 target/release/switchboard /out/switchboard

FROM gcr.io/distroless/cc-debian12 AS runtime
COPY --from=builder /out/switchboard /usr/local/bin/switchboard
# Numeric, so Kubernetes can check runAsNonRoot; the chart's podSecurityContext.runAsUser is the same.
USER 10001:10001
# gRPC of gateway, callback, ticket, trigger-engine, mail-ingest, reporting; then metrics.
EXPOSE 50051 50061 50062 50063 50064 50065 9464
ENTRYPOINT ["switchboard"]
CMD ["--help"]
