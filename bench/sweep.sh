#!/usr/bin/env bash
# Builds the page, then runs one sweep through the page's URL interface and prints its records
# (bench/sweep.mjs); arguments go to it. The speed benchmark is bench/run.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
ensure_chromium
"$ROOT/scripts/build.sh"
exec node "$ROOT/bench/sweep.mjs" "$@"
