#!/usr/bin/env bash
# Runs every test: native unit/integration tests (CPU backend; the command line's included), a
# sharded sweep on a single-node Slurm cluster (scripts/slurm-test.sh), the in-browser WebGPU
# test (wasm-pack test in headless Chromium), and the end-to-end page tests (playwright-core;
# Firefox ESR through geckodriver and selenium-webdriver).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prerequisites

# How long each stage took, printed last (also when a stage fails), so that CI's tail says
# where its time went.
STAGES=()
stage_started=$SECONDS
stage_name="set-up (tools and packages)"
stage() {
  STAGES+=("$stage_name: $(elapsed_since "$stage_started")")
  stage_started=$SECONDS
  stage_name="$1"
  log "$1"
}
report_stages() {
  local rc=$? note=""
  if [ "$rc" -ne 0 ]; then note=" (failed)"; fi
  STAGES+=("$stage_name: $(elapsed_since "$stage_started")$note")
  log "time per stage (total $(elapsed_since 0)):"
  printf '  %s\n' "${STAGES[@]}" >&2
}
trap report_stages EXIT

ensure_chromium
ensure_firefox
ensure_wasm_target
ensure_wasm_bindgen
ensure_wasm_pack
ensure_npm_packages

stage "1/4 native tests (cargo test, CPU backend; the command line's wgpu backend: scripts/test-wgpu.sh)"
use_target_dir native
(cd "$ROOT" && cargo test)

stage "2/4 a sharded sweep on a single-node Slurm cluster (scripts/slurm-test.sh)"
"$ROOT/scripts/slurm-test.sh"

stage "3/4 in-browser WebGPU test (wasm-pack test --headless --chrome)"
# Same target directory and profile as scripts/build.sh, so burn is built once for wasm.
use_target_dir wasm --target wasm32-unknown-unknown
(cd "$ROOT" && WASM_BINDGEN_TEST_TIMEOUT=900 \
  wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver --release -- --test webgpu)

stage "4/4 the page's wasm module (scripts/build.sh)"
"$ROOT/scripts/build.sh"
stage "4/4 end-to-end page tests (headless Chromium; the CPU path in headless Firefox ESR)"
(cd "$ROOT" && node --test --test-concurrency=1 tests/e2e/*.test.mjs)
