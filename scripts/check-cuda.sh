#!/usr/bin/env bash
# Build-checks the command line with the `cuda` feature (burn's CUDA backend) on a machine
# without the CUDA toolkit: cudarc is told the CUDA version (CUDARC_CUDA_VERSION, default 12.8)
# instead of asking nvcc, and loads the driver's libraries at run time, so nothing of CUDA is
# needed to build. CubeCL's CUDA runtime also pulls `tracel-llvm-bundler`, whose build script
# downloads a prebuilt LLVM (out of reach on machines that only see crates.io); `DOCS_RS=1` makes
# it skip that, as on docs.rs, which a type check does not need. `cargo check` only: building
# and running it needs that LLVM download, an NVIDIA GPU and its driver.
#   scripts/check-cuda.sh            (about 10 minutes cold on 2 cores; its own target directory)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prerequisites
use_target_dir cuda
log "checking the command line with --features cuda (CUDARC_CUDA_VERSION=${CUDARC_CUDA_VERSION:-12080})"
(cd "$ROOT" && DOCS_RS=1 CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-12080}" cargo check --bin batchlab --features cuda)
log "the command line builds with CUDA"
