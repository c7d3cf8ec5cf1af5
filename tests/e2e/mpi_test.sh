#!/usr/bin/env bash
# Acceptance 2 (part): the MPI hello of examples/ on 4 ranks COMPLETES with every rank's
# line; on the 3-node cluster `-N 3 -n 6` runs ranks on 3 nodes.
. "$(dirname "$0")/lib.sh"
: "${MPI_HELLO_BIN:?set MPI_HELLO_BIN}"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
start_droccd

install -o alice -g alice -m 0644 "$REPO/examples/hello/job.sbatch" "$T/alice/job.sbatch"
id=$(submit alice job.sbatch)
wait_state alice "$id" 120 COMPLETED FAILED CANCELLED TIMEOUT LOST REJECTED
out=$(as alice drocc logs "$id")
assert_eq "$(field alice "$id" state)" COMPLETED "state of the MPI job (output: $out)"
for r in 0 1 2 3; do assert_contains "$out" "hello from rank $r of 4" "MPI output"; done
assert_contains "$out" "sum of ranks = 6" "MPI output"

nodes=$(sinfo -h -o '%D' -p debug | head -1)
if ((nodes >= 3)); then
  install -o alice -g alice -m 0644 "$REPO/examples/hello/multinode.sbatch" "$T/alice/multi.sbatch"
  id=$(submit alice -N 3 -n 6 multi.sbatch)
  wait_state alice "$id" 120 COMPLETED FAILED CANCELLED TIMEOUT LOST REJECTED
  out=$(as alice drocc logs "$id")
  assert_eq "$(field alice "$id" state)" COMPLETED "state of the 3-node job (output: $out)"
  assert_eq "$(grep -c 'hello from rank' <<<"$out")" 6 "rank lines"
  assert_eq "$(grep -o 'on n[0-9]*' <<<"$out" | sort -u | wc -l)" 3 "distinct nodes"
  assert_eq "$(field alice "$id" nodes)" "n[1-3]" "node list"
else
  fail "the 3-node test needs the 3-node cluster (deploy/dev/cluster-up.sh --nodes 3)"
fi
pass
