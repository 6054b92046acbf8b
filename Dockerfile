# syntax=docker/dockerfile:1
# The `weft` binary in a small Debian image. Build: `docker build -t weft .` (or `docker compose build weft`).

FROM rust:1.95-bookworm AS builder
# rdkafka builds librdkafka from source (configure + make, statically linked) against the system OpenSSL and
# zlib; zstd is compiled in by zstd-sys. The image already has these; they are listed so the build says so.
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the workspace needs (members: crates/*, tests, bench). rust-toolchain.toml is left out on purpose: the
# image's toolchain is the pinned one, and copying the file would make rustup fetch its components again.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY tests tests
COPY bench bench
# Cache mounts keep the registry and target/ between builds; the binary is copied out of the cache.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p weft-cli \
 && install -D -m 0755 target/release/weft /out/weft

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin weft
COPY --from=builder /out/weft /usr/local/bin/weft
# `weft` reads ./weft.toml when present: mount one at /weft/weft.toml, or configure with WEFT__SECTION__KEY vars.
WORKDIR /weft
USER weft
# Admin HTTP (/metrics, /health, /ready); set WEFT__ADMIN__LISTEN=0.0.0.0:9464 to reach it from outside.
EXPOSE 9464
# The schema registry (set WEFT__REGISTRY__LISTEN=0.0.0.0:8081) and ingest (WEFT__INGEST__LISTEN=0.0.0.0:8080).
EXPOSE 8081 8080
ENTRYPOINT ["weft"]
CMD ["up"]
