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

# Points cargo at $CACHE/<name> (extra arguments: cargo's target selection, e.g. --target …).
# When another clone built there last, batchlab's own artifacts are cleaned first (burn's stay):
# cargo's fingerprints would name that clone's files and take its build as up to date.
use_target_dir() {
  local name="$1"
  shift
  export CARGO_TARGET_DIR="$CACHE/$name"
  mkdir -p "$CARGO_TARGET_DIR"
  local owner="$CARGO_TARGET_DIR/.batchlab-clone"
  if [ "$(cat "$owner" 2>/dev/null || true)" != "$ROOT" ]; then
    if [ -f "$owner" ]; then
      log "$CARGO_TARGET_DIR was last used by another clone ($(cat "$owner")): rebuilding batchlab itself (its dependencies are kept)"
      (cd "$ROOT" && cargo clean --quiet -p batchlab "$@") || true
    fi
    echo "$ROOT" >"$owner"
  fi
}

# "3 min 12 s" since $1 (a value of $SECONDS).
elapsed_since() {
  local s=$((SECONDS - $1))
  if [ "$s" -ge 60 ]; then echo "$((s / 60)) min $((s % 60)) s"; else echo "$s s"; fi
}

die() { printf '\033[1m[batchlab]\033[0m error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "installing Debian packages needs root: run as root, install sudo, or run: apt-get install $*"
  fi
}

# What rustup and npm cannot install: a C linker (for build scripts), Node.js >= 20.10 with npm
# (node --test options), Python 3 (the static server).
check_prerequisites() {
  command -v cargo >/dev/null && command -v rustup >/dev/null \
    || die "Rust is missing: install it with rustup (https://rustup.rs)"
  command -v cc >/dev/null || die "no C compiler/linker (cc): apt-get install build-essential"
  command -v python3 >/dev/null || die "python3 is missing: apt-get install python3"
  command -v node >/dev/null && command -v npm >/dev/null \
    || die "Node.js and npm are missing: install Node.js 20.10 or later"
  local v
  v="$(node -p 'process.versions.node')"
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 10) ? 0 : 1)' \
    || die "Node.js $v is too old: batchlab's tests need 20.10 or later"
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
  # wasm-pack asks crates.io for a newer version of itself once a day, in the background, and
  # warns "failed to get wasm-pack version" where that API is out of reach. Its answer is cached
  # in a stamp file beside the binary ("created <time>", "version <latest>"): a fresh stamp naming
  # the installed version skips the check, which asks nothing of the reader.
  local bin version
  bin="$(command -v wasm-pack)"
  version="$(wasm-pack --version 2>/dev/null | awk '{print $2}')"
  printf 'created %s\nversion %s' "$(date -Iseconds)" "$version" >"$bin.stamp" 2>/dev/null || true
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    log "installing Debian's chromium and chromium-driver"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}

# Firefox ESR and its WebDriver server: the end-to-end test of the CPU path in Firefox
# (tests/e2e/firefox.test.mjs). geckodriver from crates.io (prebuilt downloads are out of reach).
ensure_firefox() {
  if [ ! -x /usr/bin/firefox-esr ]; then
    log "installing Debian's firefox-esr"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr >/dev/null
  fi
  if ! command -v geckodriver >/dev/null; then
    log "installing geckodriver (a few minutes, once)"
    cargo install geckodriver --locked
  fi
}

# Mesa's software Vulkan driver (lavapipe) and the Vulkan loader: the command line's native wgpu
# backend is tested on it (tests/cli.rs) on machines without a GPU.
ensure_lavapipe() {
  if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || ! ldconfig -p | grep -q 'libvulkan.so.1'; then
    log "installing Mesa's software Vulkan driver (mesa-vulkan-drivers)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
}

ensure_npm_packages() {
  if [ ! -d "$ROOT/node_modules/chart.js" ] || [ ! -d "$ROOT/node_modules/playwright-core" ] \
     || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm packages"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
