#!/usr/bin/env bash
# The command line on burn's wgpu backend natively: builds batchlab with `--features wgpu` in its
# own target directory (about 60 minutes cold on 2 cores, CubeCL's GPU runtime and wgpu
# included) and runs tests/cli.rs's wgpu test on Mesa's software Vulkan driver (lavapipe), which
# it installs: the same sweep on `--backend wgpu` and `--backend cpu`, compared record by record.
# Not part of scripts/test.sh (CI's time); run it after changing the backend choice or cli.rs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prerequisites
ensure_lavapipe
use_target_dir native-wgpu
log "the command line on wgpu (Vulkan: lavapipe on a machine without a GPU)"
(cd "$ROOT" && cargo test --features wgpu --test cli -- wgpu)
