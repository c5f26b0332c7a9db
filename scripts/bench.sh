#!/usr/bin/env bash
# Builds the page, then runs the benchmark (scripts/bench.mjs); arguments go to it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_chromium
"$ROOT/scripts/build.sh"
exec node "$ROOT/scripts/bench.mjs" "$@"
