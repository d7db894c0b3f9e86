# zt container image: `zt run` (node service + embedded controller) with its home on a volume.
#
#   docker build -t zt .
#   docker run -d --name zt --network host --cap-add NET_ADMIN --cap-add NET_RAW \
#     --device /dev/net/tun -v zt-home:/var/lib/zerotier-one zt
#
# Two ways the build can go (see packaging/README.md):
#   * compile: `deno compile` makes one self-contained binary. It needs the denort runtime, which
#     deno downloads from dl.deno.land during the build.
#   * source: when denort cannot be fetched, the image carries the deno binary, the sources and a
#     pre-filled module cache, and /usr/local/bin/zt is a small launcher (`deno run` offline) of
#     their JavaScript build (scripts/build_js.ts).
# ZT_BUILD=auto (default) tries compile, then falls back to source; ZT_BUILD=compile or
# ZT_BUILD=source forces one of them (compile then fails the build if denort is unreachable).
#
# The image holds no identity, tokens, planet, moons or local.conf: everything is created in, or
# read from, the volume /var/lib/zerotier-one when the container first runs.

ARG DENO_VERSION=2.9.6
ARG DEBIAN_RELEASE=bookworm-slim

FROM denoland/deno:debian-${DENO_VERSION} AS build
ARG ZT_BUILD=auto
ENV DENO_DIR=/opt/zt/deno_dir
WORKDIR /opt/zt/src
COPY deno.json deno.lock mod.ts cli.ts ./
COPY src ./src
COPY ffi ./ffi
COPY scripts/build_js.ts ./scripts/build_js.ts
RUN deno cache --frozen cli.ts
RUN set -eu; mkdir -p /out; \
    if [ "$ZT_BUILD" != "source" ] && \
       deno compile --frozen --allow-all --v8-flags=--max-semi-space-size=64,--optimize-for-size --output /out/zt cli.ts; then \
      echo "zt image: single binary from deno compile"; \
    elif [ "$ZT_BUILD" = "compile" ]; then \
      echo "zt image: deno compile failed (is dl.deno.land reachable?)" >&2; exit 1; \
    else \
      echo "zt image: deno compile unavailable; running from source (its JavaScript build)"; \
      deno run --allow-all --cached-only --frozen scripts/build_js.ts; \
      rm -f /out/zt; \
      cp -a /opt/zt/src /out/src; \
      cp -a "$DENO_DIR" /out/deno_dir; \
      cp "$(command -v deno)" /out/deno; \
      printf '%s\n' '#!/bin/sh' 'd=$(dirname "$(readlink -f "$0")")' \
        'export DENO_DIR="$d/deno_dir"' \
        'exec "$d/deno" run --allow-all --v8-flags=--max-semi-space-size=64,--optimize-for-size --cached-only --frozen --config "$d/src/deno.json" "$d/src/dist/js/cli.js" "$@"' \
        > /out/zt; \
      chmod 0755 /out/zt; \
    fi; \
    /out/zt --version

FROM debian:${DEBIAN_RELEASE}
# iproute2: zt applies managed addresses and routes with `ip`.
RUN apt-get update \
  && apt-get install -y --no-install-recommends iproute2 \
  && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /opt/zt/
RUN ln -s /opt/zt/zt /usr/local/bin/zt
ENV ZT_HOME=/var/lib/zerotier-one
# one malloc arena for all threads (packaging/README.md)
ENV MALLOC_ARENA_MAX=1
VOLUME /var/lib/zerotier-one
EXPOSE 9993/udp
ENTRYPOINT ["zt", "run"]
