#!/usr/bin/env bash
# Manual netns lab (as root): `scripts/netns.sh up [bridge|nat]` builds the e2e tests' lab and
# leaves it up; `scripts/netns.sh down` removes it (and any lab a crashed test run left behind).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != "0" ]; then
  echo "netns.sh: needs root (network namespaces)" >&2
  exit 1
fi
case "${1:-}" in
  up) exec deno run -A tests/e2e/netns.ts up "${2:-bridge}" ;;
  down) exec deno run -A tests/e2e/netns.ts down ;;
  *)
    echo "usage: scripts/netns.sh up [bridge|nat] | down" >&2
    exit 2
    ;;
esac
