#!/usr/bin/env bash
# Builds the page, then serves www/ on 127.0.0.1 and prints the URL. Port: $PORT (default 8000).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/build.sh"
port="${PORT:-8000}"
log "serving www/ on http://127.0.0.1:$port/ (Ctrl-C to stop)"
# http.server's own banner repeats the address: it goes to stdout, the request log to stderr.
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$ROOT/www" >/dev/null
