#!/usr/bin/env bash
# The quick start: on a fresh Debian 12 machine, as root, set up everything (packages, MUNGE,
# a one-node Slurm cluster with 4 simulated GPUs, test users, drocc built and installed,
# droccd running), then submit examples/hello/job.sbatch as user alice through drocc, wait
# for it, and show `drocc show` and the job's output.
#
# Usage: ./deploy/dev/demo.sh            Env: DEMO_NODES (default 1)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
need_root
ROOT=$(repo_root)
cd "$ROOT"

"$HERE/install-deps.sh"
"$HERE/munge-up.sh"
"$HERE/users.sh"
"$HERE/cluster-up.sh" --nodes "${DEMO_NODES:-1}"
"$HERE/build-install.sh"
"$HERE/droccd-up.sh"

DEMO_DIR=/home/alice/drocc-demo
install -d -o alice -g alice "$DEMO_DIR"
install -o alice -g alice -m 0644 examples/hello/job.sbatch "$DEMO_DIR/job.sbatch"
as_alice() { runuser -u alice -- env -C "$DEMO_DIR" "$@"; }

log "as alice: drocc submit job.sbatch"
id=$(as_alice drocc submit --parsable job.sbatch)
log "submitted drocc job $id; watching it"
as_alice timeout 300 drocc watch "$id" || true
echo
as_alice drocc show "$id"
echo
log "as alice: drocc logs $id"
as_alice drocc logs "$id"
state=$(as_alice drocc show "$id" -o json | jq -r .state)
[[ $state == COMPLETED ]] || die "the demo job ended $state, not COMPLETED"
log "demo done: job $id COMPLETED. Try: runuser -u alice -- drocc jobs"
