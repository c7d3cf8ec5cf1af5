#!/usr/bin/env bash
# The quick start: on a fresh Debian 12 machine, as root, set up everything (packages, MUNGE,
# a one-node Slurm cluster with 4 simulated GPUs, test users, drocc built and installed,
# droccd running), give alice a project with an hour grant (as an admin would), then submit
# examples/hello/job.sbatch as user alice through drocc, wait for it, and show `drocc show`,
# the job's output and what it was charged.
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

# What a drocc admin does once per lab: an account, a project, its members and a grant.
if ! drocc admin project list -o json | jq -e '.[] | select(.name == "demo-lab")' >/dev/null; then
  log "as an admin: account demo-uni, project demo-lab with alice, 100 gpu-hours and 1000 cpu-hours"
  drocc admin account create demo-uni --kind lab --description "Demo university" >/dev/null
  drocc admin project create demo-lab --account demo-uni >/dev/null
  drocc admin member add demo-lab alice >/dev/null
  drocc admin grant create demo-lab 100 --resource gpu-hours --reference DEMO-GPU >/dev/null
  drocc admin grant create demo-lab 1000 --resource cpu-hours --reference DEMO-CPU >/dev/null
fi

DEMO_DIR=/home/alice/drocc-demo
install -d -o alice -g alice "$DEMO_DIR"
install -o alice -g alice -m 0644 examples/hello/job.sbatch "$DEMO_DIR/job.sbatch"
as_alice() { runuser -u alice -- env -C "$DEMO_DIR" "$@"; }

log "as alice: drocc estimate job.sbatch"
as_alice drocc estimate job.sbatch
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
log "as alice: drocc balance (the job was charged what it used)"
as_alice drocc balance
log "demo done: job $id COMPLETED. Try: runuser -u alice -- drocc jobs"
