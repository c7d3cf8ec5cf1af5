#!/usr/bin/env bash
# Runs bench/checkpoint_bench on 1 rank and on 2 ranks (this machine's cores), one after the
# other, and prints both. Each run measures every method in the same directory (default under
# $TMPDIR or /tmp; pass --dir for another filesystem, a shared one for several nodes).
#
# Usage: bench/checkpoint_bench.sh [BUILD_DIR] [-- checkpoint_bench options, e.g. --rounds 9]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$REPO/build}
shift || true
[[ ${1:-} == -- ]] && shift
BIN=$BUILD/bench/checkpoint_bench
[[ -x $BIN ]] || { echo "missing $BIN: build it first (make checkpoint_bench)" >&2; exit 1; }
# As root OpenMPI wants --allow-run-as-root; 2 ranks on 2 cores beside mpirun needs
# --oversubscribe. --bind-to none: a rank and the dd it starts are not pinned to one core.
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
for np in 1 2; do
  echo
  echo "===== mpirun -n $np $BIN $* ====="
  "${MPIRUN[@]}" -n "$np" "$BIN" "$@"
done
