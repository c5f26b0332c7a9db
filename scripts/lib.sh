# Shared set-up for scripts/*.sh: installs what a fresh machine lacks, skips what is there.
# Source it; it sets ROOT, CACHE and PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Cargo's build output lives outside the clone, so that later runs (and CI) reuse it: a cold
# build of burn takes tens of minutes. One target directory per target, never shared by two
# concurrent builds.
CACHE="${BATCHLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/batchlab}"
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p "$CACHE"

log() { printf '\033[1m[batchlab]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly).
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, "", $0); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_wasm_bindgen() {
  local want have=""
  want="$(wasm_bindgen_version)"
  command -v wasm-bindgen >/dev/null && have="$(wasm-bindgen --version | awk '{print $2}')"
  if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null; then
    log "installing wasm-bindgen-cli $want (a few minutes, once)"
    # Not --locked: a locked dependency of the CLI is missing from the registry here.
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

ensure_wasm_pack() {
  if ! command -v wasm-pack >/dev/null; then
    log "installing wasm-pack (a few minutes, once)"
    cargo install wasm-pack --locked
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    log "installing Debian's chromium and chromium-driver"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}

ensure_npm_packages() {
  if [ ! -d "$ROOT/node_modules/chart.js" ] || [ ! -d "$ROOT/node_modules/playwright-core" ] \
     || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm packages"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
