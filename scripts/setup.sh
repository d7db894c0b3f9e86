#!/usr/bin/env bash
# Installs what zt's tests need on a fresh Debian machine: Deno 2 (from npm) and the netns tools.
set -euo pipefail

if ! command -v deno >/dev/null 2>&1; then
  echo "setup: installing deno 2 from npm"
  npm install -g deno@2 >/dev/null 2>&1 || npm install -g --allow-scripts=deno deno@2
fi
deno --version | head -1

need=()
# One "command:debian-package" per line (keep them sorted; add yours on its own line).
tools=(
  chromium:chromium
  clang:clang
  curl:curl
  dig:dnsutils
  ip:iproute2
  iperf3:iperf3
  iptables:iptables
  miniupnpd:miniupnpd
  nft:nftables
  ping:iputils-ping
  setpriv:util-linux
  tcpdump:tcpdump
  wasm-ld:lld
)
for pair in "${tools[@]}"; do
  cmd=${pair%%:*}
  pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
# PostgreSQL's server binaries live in /usr/lib/postgresql/<ver>/bin, not on PATH
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# libsodium is optional at run time (the controller's fastest Ed25519 signer); CI tests it
compgen -G '/usr/lib/*/libsodium.so.23' >/dev/null || need+=(libsodium23)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: missing ${need[*]} (not root or no apt-get); e2e tests will skip"
  fi
fi

# Cache npm dependencies so tests do not race to download them.
deno install --quiet >/dev/null 2>&1 || deno cache mod.ts cli.ts
