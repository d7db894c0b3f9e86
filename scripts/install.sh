#!/usr/bin/env bash
# Installs zt from this checkout: Deno and the system tools (scripts/setup.sh), then a `zt` launcher on PATH.
#
#   sudo bash scripts/install.sh          # launcher in /usr/local/bin/zt
#   ZT_PREFIX=$HOME/.local bash scripts/install.sh   # no root: launcher in ~/.local/bin/zt
#
# The launcher is a short shell script that runs this checkout with zt's runtime flags (the same as
# `deno task zt`): `deno run --allow-all --v8-flags=--max-semi-space-size=64,--optimize-for-size`.
# It runs dist/js/cli.js, the plain-JavaScript build of the checkout (scripts/build_js.ts, made
# here; a member idles ~3 MiB lower than from TypeScript), while no source is newer than that
# build, and cli.ts otherwise (so after a `git pull` it runs the new code at once; rerun this
# script, or `deno task build:js`, to get the build back). ZT_LAUNCHER_PRINT=1 makes it print the
# entry point it would run instead of running it. A launcher in /usr/local/bin is on the PATH of
# root and of sudo (unlike `deno install --global`, whose shims go to ~/.deno/bin) and keeps the
# flags in one visible place. ZT_INSTALL_SKIP_SETUP=1 skips scripts/setup.sh (launcher and build).
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

# The plain-JavaScript build; without it (or when it fails) the launcher runs cli.ts.
if ! (cd "$repo" && "$deno_bin" run --allow-all scripts/build_js.ts); then
  echo "install: note: the JavaScript build failed; zt runs from cli.ts" >&2
fi

js="$repo/dist/js"
tmp=$(mktemp "$bindir/.zt.XXXXXX")
{
  echo '#!/bin/sh'
  echo "# zt launcher written by scripts/install.sh: runs $js/cli.js while no source is newer than"
  echo "# that build (scripts/build_js.ts), else $repo/cli.ts; zt's runtime flags."
  echo ': "${MALLOC_ARENA_MAX:=1}"; export MALLOC_ARENA_MAX # one malloc arena (packaging/README.md)'
  printf 'main=%q\n' "$repo/cli.ts"
  # the sources the build is compared with: scripts/build_js.ts JS_SOURCES
  printf 'if [ -f %q ] && [ -f %q ] && [ -z "$(find' "$js/.built" "$js/cli.js"
  printf ' %q' "$repo/cli.ts" "$repo/mod.ts" "$repo/src" "$repo/ffi" "$repo/deno.json"
  printf ' -newer %q 2>/dev/null | head -n 1)" ]; then main=%q; fi\n' "$js/.built" "$js/cli.js"
  echo 'if [ -n "${ZT_LAUNCHER_PRINT:-}" ]; then echo "$main"; exit 0; fi'
  printf 'exec %q run' "$deno_bin"
  printf ' %s' "${flags[@]}" # fixed words, no quoting needed (%q would escape their commas)
  printf ' %q' --config "$repo/deno.json"
  echo ' "$main" "$@"'
} >"$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$bindir/zt"

echo "install: $bindir/zt -> $(ZT_LAUNCHER_PRINT=1 "$bindir/zt") ($("$bindir/zt" --version))"
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) echo "install: note: $bindir is not on your PATH" ;;
esac
