#!/usr/bin/env bash
# The benchmark, in one command: builds the page, measures batchlab natively (CPU backend) and
# PyTorch natively (one thread; installed from PyPI into a cached virtual environment), then
# batchlab and TensorFlow.js in headless Chromium; writes bench/results/latest.{json,md}
# (--quick: quick.{json,md}) and prints the Markdown; the full run then measures the duration
# estimate against Quick look's sweep on both backends (estimate.{json,md}). See bench/README.md.
#
#   bench/run.sh [--quick] [--no-pytorch]
#   bench/run.sh --calls     only the WebGPU calls per step (batchlab, TF.js, jax-js; calls.{json,md})
#   bench/run.sh --estimate  only the estimate against Quick look's sweep, CPU and (cut) WebGPU (estimate.{json,md})
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

quick=()
pytorch=1
# Quick look, whose estimate a reader sees first, on the CPU backend; on WebGPU cut to what a
# software adapter (SwiftShader: ~20 hours for the whole of it) trains in a few minutes.
ESTIMATE_QUERIES=('preset=quick&backend=cpu' 'preset=quick&backend=webgpu&batch=64,512,full&epochs=1&train=2000&val=1000&test=1000')
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    --no-pytorch) pytorch=0 ;;
    --calls)
      ensure_chromium
      ensure_npm_packages
      "$ROOT/scripts/build.sh"
      exec node "$ROOT/bench/bench.mjs" --calls ;;
    --estimate)
      ensure_chromium
      ensure_npm_packages
      "$ROOT/scripts/build.sh"
      exec node "$ROOT/bench/estimate.mjs" --out "$ROOT/bench/results/estimate" "${ESTIMATE_QUERIES[@]}" ;;
    *) die "unknown argument $arg (use --quick, --no-pytorch, --calls, --estimate)" ;;
  esac
done
if [ ${#quick[@]} -gt 0 ]; then
  batches=1,64,1024; train=10000; epoch=
else
  batches=1,16,64,256,1024,4096,60000; train=60000; epoch=60000
fi

ensure_chromium
"$ROOT/scripts/build.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "native figures: batchlab's CPU backend (one thread)"
use_target_dir native
# One thread, as the page's wasm module and PyTorch below (natively the CPU backend would use every
# core: burn-flex's rayon pool).
(cd "$ROOT" && RAYON_NUM_THREADS=1 cargo run --quiet --example bench -- "${quick[@]}" --batch "$batches" --train "$train" --epoch "$epoch") >"$work/native.json" \
  || log "the native figures failed: the report goes on without them"

if [ "$pytorch" = 1 ]; then
  venv="$CACHE/pytorch-venv"
  if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    log "installing PyTorch from PyPI into $venv (once; a few GB)"
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet torch; }; then
      log "PyTorch could not be installed (is python3-venv installed, PyPI reachable?): the report goes on without it"
      rm -rf "$venv"
      pytorch=0
    fi
  fi
fi
if [ "$pytorch" = 1 ]; then
  log "native figures: PyTorch (one thread)"
  "$venv/bin/python" "$ROOT/bench/pytorch.py" "${quick[@]}" --batch "$batches" --train "$train" --threads 1 >"$work/pytorch.json" \
    || log "PyTorch's figures failed: the report goes on without them"
fi

log "in the browser: batchlab (CPU, WebGPU), TensorFlow.js and jax-js"
node "$ROOT/bench/bench.mjs" "${quick[@]}" --native "$work/native.json" --pytorch "$work/pytorch.json"

if [ ${#quick[@]} -eq 0 ]; then
  log "the duration estimate against Quick look's sweep (CPU, then WebGPU)"
  node "$ROOT/bench/estimate.mjs" --out "$ROOT/bench/results/estimate" "${ESTIMATE_QUERIES[@]}" \
    || log "the estimate's measurement failed"
fi
