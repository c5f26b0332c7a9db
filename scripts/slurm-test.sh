#!/usr/bin/env bash
# A real scheduler runs a sharded sweep: starts a single-node Slurm cluster on this machine
# (munge and Slurm's controller and node daemon, as root, on loopback only), submits
# examples/slurm/sweep.sbatch as a 4-task job array of a small sweep, merges the shards with
# `batchlab merge`, and checks that the merged export holds the same records, to the bit, as the
# sweep trained whole (times aside). Falls back to GNU parallel, saying why, where Slurm's daemons
# cannot start. Run by scripts/test.sh; needs root (or sudo) to install and start the daemons.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_slurm() {
  if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null || ! command -v parallel >/dev/null; then
    log "installing Debian's slurm-wlm, munge and parallel"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge parallel >/dev/null
  fi
}
ensure_slurm

use_target_dir native
(cd "$ROOT" && cargo build --bin batchlab)
BIN="$CARGO_TARGET_DIR/debug/batchlab"
WORK="$(mktemp -d /tmp/batchlab-slurm.XXXXXX)"
chmod 755 "$WORK"
SWEEP=(--batch 50,100 --seeds 2 --train 500 --val 100 --test 100 --epochs 1 --optimizer sgd --lr 0.05 --data "$ROOT/www/data")
log "the small sweep, trained whole"
"$BIN" sweep "${SWEEP[@]}" --progress none --out "$WORK/whole.json" >/dev/null

# The cluster: one node (this machine, `localhost`), its state under $WORK; stopped on exit.
CONF="$WORK/slurm.conf"
cat >"$CONF" <<CONF
ClusterName=batchlab
SlurmctldHost=localhost
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=batch Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/munge" "$WORK/shards"
export SLURM_CONF="$CONF"
cleanup() {
  # Stop the daemons and wait for them to exit (slurmctld writes its state as it stops),
  # then remove their files. Cleaning up never changes the test's verdict.
  local pids="" f
  for f in "$WORK/slurmd.pid" "$WORK/slurmctld.pid" "$WORK/munge/munged.pid"; do
    [ -f "$f" ] && pids="$pids $(cat "$f")"
  done
  for p in $pids; do as_root kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=""
    for p in $pids; do as_root kill -0 "$p" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.2
  done
  for p in $pids; do as_root kill -9 "$p" 2>/dev/null || true; done
  as_root rm -rf "$WORK" 2>/dev/null || { sleep 1; as_root rm -rf "$WORK" 2>/dev/null; } || true
  return 0
}
trap cleanup EXIT

start_slurm() {
  as_root dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
  as_root chmod 400 "$WORK/munge/munge.key"
  as_root mkdir -p /run/munge
  as_root munged --key-file="$WORK/munge/munge.key" --socket=/run/munge/munge.socket.2 \
    --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/seed" --force \
    || return 1
  as_root env SLURM_CONF="$CONF" slurmctld || return 1
  as_root env SLURM_CONF="$CONF" slurmd || return 1
  local i
  for i in $(seq 1 60); do
    sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)$' && return 0
    sleep 1
  done
  return 1
}

if start_slurm; then
  log "Slurm: a 4-task job array of the sweep (examples/slurm/sweep.sbatch)"
  (cd "$WORK" && BATCHLAB="$BIN" BATCHLAB_OUT="$WORK/shards" \
    timeout 600 sbatch --wait --array=0-3 --output="$WORK/task-%a.log" "$ROOT/examples/slurm/sweep.sbatch" "${SWEEP[@]}") \
    || { cat "$WORK"/task-*.log "$WORK/slurmctld.log" >&2 || true; die "the Slurm job array failed"; }
  WHO="Slurm $(sinfo -V | awk '{print $2}')"
else
  log "Slurm's daemons could not start here ($(tail -n 2 "$WORK/slurmctld.log" "$WORK/munge/munged.log" 2>/dev/null | tr '\n' ' ')): GNU parallel runs the 4 shards instead"
  parallel --halt now,fail=1 "$BIN" sweep "${SWEEP[@]}" --progress none --shard {}/4 --out "$WORK/shards/shard-{}.json" '>' /dev/null ::: 0 1 2 3
  WHO="GNU parallel"
fi

"$BIN" merge "$WORK"/shards/shard-*.json --out "$WORK/merged.json" >/dev/null
python3 - "$WORK/whole.json" "$WORK/merged.json" <<'PY'
import json, sys
def records(path):
    export = json.load(open(path))
    rows = []
    for r in export["results"]:
        r = dict(r, trainSeconds=0, samplesPerSecond=0)
        rows.append(json.dumps(r, sort_keys=True))
    return sorted(rows), len(export["runs"])
whole, merged = records(sys.argv[1]), records(sys.argv[2])
assert whole == merged, "the merged shards differ from the sweep trained whole"
print(f"{whole[1]} runs, {len(whole[0])} records: the same to the bit")
PY
log "sharded by $WHO and merged: the same records as the sweep trained whole"
