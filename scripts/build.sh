#!/usr/bin/env bash
# Builds the release wasm into www/pkg/, copies Chart.js and idb-keyval into www/vendor/ and
# examples/ into www/examples/, cuts the MNIST training set into parts (www/data/parts/), so that
# www/ is a complete static site. Prints the module's size.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prerequisites
# wasm-opt's level (WASM_OPT_LEVEL=none skips it); chosen by measurement: docs/speed.md, *What was done to make it fast*.
WASM_OPT_DEFAULT=Oz

ensure_wasm_target
ensure_wasm_bindgen
ensure_npm_packages

use_target_dir wasm --target wasm32-unknown-unknown
module="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/batchlab.wasm"
if ! compgen -G "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/.fingerprint/burn-core-*" >/dev/null; then
  log "building burn and batchlab for wasm (release): the first build takes 15-20 minutes on 2 cores"
fi
before="$(stat -c %Y "$module" 2>/dev/null || echo 0)"
started=$SECONDS
(cd "$ROOT" && cargo build --release --lib --target wasm32-unknown-unknown)
if [ "$(stat -c %Y "$module")" != "$before" ]; then
  log "built the wasm module in $(elapsed_since "$started")"
fi

rm -rf "$ROOT/www/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$ROOT/www/pkg" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/batchlab.wasm"

# Shrink the module with binaryen's wasm-opt (npm's binaryen 132; Debian's 108 breaks the module,
# it fails at start-up). The features are named explicitly, as rustc enables them.
# Minutes of one core, so the result is cached by the input's hash.
wasm="$ROOT/www/pkg/batchlab_bg.wasm"
WASM_OPT_LEVEL="${WASM_OPT_LEVEL:-$WASM_OPT_DEFAULT}"
WASM_OPT_FLAGS=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals
  --enable-reference-types --enable-multivalue --enable-simd)
if [ "$WASM_OPT_LEVEL" != none ]; then
  # The cache key: the input module, the level, the flags and binaryen's version.
  binaryen="$(node -p "require('$ROOT/node_modules/binaryen/package.json').version")"
  key="$( (sha256sum <"$wasm"; echo "$WASM_OPT_LEVEL ${WASM_OPT_FLAGS[*]} $binaryen") | sha256sum | cut -c1-32)"
  cached="$CACHE/wasm-opt/$key.wasm"
  if [ ! -f "$cached" ]; then
    log "optimising the module with wasm-opt -$WASM_OPT_LEVEL (binaryen $binaryen; about 4 minutes of one core; cached afterwards)"
    mkdir -p "$CACHE/wasm-opt"
    started=$SECONDS
    node "$ROOT/node_modules/binaryen/bin/wasm-opt" "-$WASM_OPT_LEVEL" "${WASM_OPT_FLAGS[@]}" "$wasm" -o "$cached.tmp"
    mv "$cached.tmp" "$cached"
    log "optimised in $(elapsed_since "$started")"
  fi
  cp "$cached" "$wasm"
fi
mkdir -p "$ROOT/www/vendor"
cp "$ROOT/node_modules/chart.js/dist/chart.umd.min.js" "$ROOT/www/vendor/"
cp "$ROOT/node_modules/idb-keyval/dist/index.js" "$ROOT/www/vendor/idb-keyval.js"
# The training set in parts of 10,000 images: a sweep downloads only those it needs.
python3 "$ROOT/scripts/mnist-parts.py"
# The example blog post is served next to the page (its <iframe> points at ../index.html).
rm -rf "$ROOT/www/examples"
cp -r "$ROOT/examples" "$ROOT/www/examples"

raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
log "www/pkg/batchlab_bg.wasm: $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzip"
