#!/usr/bin/env bash
# Moved: the batch-size sweep benchmark is bench/sweep.sh (and the whole benchmark bench/run.sh).
exec "$(dirname "${BASH_SOURCE[0]}")/../bench/sweep.sh" "$@"
