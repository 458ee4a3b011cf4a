# syntax=docker/dockerfile:1
# Stampede's image: built with cargo, run on slim Debian as a non-root user.
#   docker build -t stampede .
#   docker compose up        (compose.yaml: Postgres, Redis and the demo)
# The binary needs DATABASE_URL (and REDIS_URL to run several nodes);
# docs/operations.md lists every option.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY tools/loadgen/Cargo.toml tools/loadgen/Cargo.toml
COPY tools/analytics-bench/Cargo.toml tools/analytics-bench/Cargo.toml
COPY tools/replay-bench/Cargo.toml tools/replay-bench/Cargo.toml
COPY tools/search-bench/Cargo.toml tools/search-bench/Cargo.toml
RUN for d in . tools/loadgen tools/analytics-bench tools/replay-bench tools/search-bench; do \
      mkdir -p "$d/src" && echo 'fn main() {}' > "$d/src/main.rs"; done \
 && touch src/lib.rs \
 && cargo build --release --locked --bin stampede \
 && rm -rf src tools/*/src
COPY . .
# The real sources are newer than the placeholders' build outputs.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin stampede

FROM debian:bookworm-slim
# curl for the health check; TLS roots for Postgres/Redis over TLS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin stampede
COPY --from=build /src/target/release/stampede /usr/local/bin/stampede
USER stampede
ENV STAMPEDE_BIND=0.0.0.0:8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/health || exit 1
ENTRYPOINT ["stampede"]
CMD ["serve"]
