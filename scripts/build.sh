#!/usr/bin/env bash
# Builds the release wasm into www/pkg/, copies Chart.js and idb-keyval into www/vendor/ and
# examples/ into www/examples/, so that www/ is a complete static site. Prints the module's size.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prerequisites

ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_packages

use_target_dir wasm --target wasm32-unknown-unknown
log "building the wasm module (release; the first build takes 10-15 minutes)"
(cd "$ROOT" && cargo build --release --lib --target wasm32-unknown-unknown)

rm -rf "$ROOT/www/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$ROOT/www/pkg" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/batchlab.wasm"
mkdir -p "$ROOT/www/vendor"
cp "$ROOT/node_modules/chart.js/dist/chart.umd.min.js" "$ROOT/www/vendor/"
cp "$ROOT/node_modules/idb-keyval/dist/index.js" "$ROOT/www/vendor/idb-keyval.js"
# The example blog post is served next to the page (its <iframe> points at ../index.html).
rm -rf "$ROOT/www/examples"
cp -r "$ROOT/examples" "$ROOT/www/examples"

wasm="$ROOT/www/pkg/batchlab_bg.wasm"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
log "www/pkg/batchlab_bg.wasm: $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzip"
