#!/usr/bin/env bash
# Installs zt from this checkout: Deno and the system tools (scripts/setup.sh), then a `zt` launcher on PATH.
#
#   sudo bash scripts/install.sh          # launcher in /usr/local/bin/zt
#   ZT_PREFIX=$HOME/.local bash scripts/install.sh   # no root: launcher in ~/.local/bin/zt
#
# The launcher is a two-line shell script that runs this checkout's cli.ts with zt's runtime flags
# (the same as `deno task zt`): `deno run --allow-all
# --v8-flags=--max-semi-space-size=64,--optimize-for-size`. A
# launcher in /usr/local/bin is on the PATH of root and of sudo (unlike `deno install --global`,
# whose shims go to ~/.deno/bin), it follows the checkout (git pull = upgraded), and it keeps the
# flags in one visible place. ZT_INSTALL_SKIP_SETUP=1 skips scripts/setup.sh (launcher only).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${ZT_PREFIX:-/usr/local}
bindir="$prefix/bin"
flags=(--allow-all --v8-flags=--max-semi-space-size=64,--optimize-for-size)

if [ "${ZT_INSTALL_SKIP_SETUP:-0}" != "1" ]; then
  if ! command -v deno >/dev/null 2>&1 && ! command -v npm >/dev/null 2>&1; then
    # setup.sh installs Deno from npm: get npm first where we can.
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "install: installing npm (to install Deno)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq npm >/dev/null
    else
      echo "install: Deno 2 is missing and there is no npm to install it with;" >&2
      echo "install: install Deno (https://docs.deno.com/runtime/getting_started/installation/) and rerun" >&2
      exit 1
    fi
  fi
  (cd "$repo" && bash scripts/setup.sh)
fi

deno_bin=$(command -v deno || true)
if [ -z "$deno_bin" ]; then
  echo "install: deno is still not on PATH; install Deno 2 and rerun" >&2
  exit 1
fi

if ! mkdir -p "$bindir" 2>/dev/null || [ ! -w "$bindir" ]; then
  echo "install: cannot write $bindir: run with sudo, or set ZT_PREFIX (e.g. ZT_PREFIX=\$HOME/.local)" >&2
  exit 1
fi

tmp=$(mktemp "$bindir/.zt.XXXXXX")
{
  echo '#!/bin/sh'
  echo "# zt launcher written by scripts/install.sh: runs $repo/cli.ts with zt's runtime flags."
  echo ': "${MALLOC_ARENA_MAX:=1}"; export MALLOC_ARENA_MAX # one malloc arena (packaging/README.md)'
  printf 'exec %q run' "$deno_bin"
  printf ' %s' "${flags[@]}" # fixed words, no quoting needed (%q would escape their commas)
  printf ' %q' --config "$repo/deno.json" "$repo/cli.ts"
  echo ' "$@"'
} >"$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$bindir/zt"

echo "install: $bindir/zt -> $repo/cli.ts ($("$bindir/zt" --version))"
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) echo "install: note: $bindir is not on your PATH" ;;
esac
