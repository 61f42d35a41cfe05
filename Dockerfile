# forkpool: a job service that runs tasks in forked worker processes.
#
# Build:  docker build -t forkpool .
# Run:    docker run --rm -p 8080:8080 forkpool
# Every process of the server lives in this one container and shares its IPC
# namespace, so the System V segment needs no extra flags.

FROM swift:6.3-bookworm AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd-dev=0.9.75-6 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY bench ./bench
COPY Examples ./Examples
# The Swift runtime is linked in, so the runtime image needs no Swift.
RUN swift build -c release --product forkpool --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/forkpool" /out/forkpool

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd12=0.9.75-6 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 forkpool \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin forkpool
COPY --from=builder /out/forkpool /usr/local/bin/forkpool
USER 10001:10001
# serve and healthcheck both read FORKPOOL_PORT: `docker run -e FORKPOOL_PORT=9000` moves both.
ENV FORKPOOL_PORT=8080
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/forkpool", "healthcheck"]
# The supervisor is PID 1: it reaps orphans (child subreaper) and drains on SIGTERM.
ENTRYPOINT ["/usr/local/bin/forkpool", "serve"]
