#!/usr/bin/env bash
# Runs bench/submit_bench against a private droccd with admission drained (so it measures
# drocc's durable queue, not Slurm), as user alice, beside sequential `sbatch --hold` of the
# same count. Needs root, the dev cluster and its users (deploy/dev/cluster-up.sh, users.sh).
#
# Usage: bench/submit_bench.sh [BUILD_DIR] [-- submit_bench options, e.g. --count 5000]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$REPO/build}
shift || true
[[ ${1:-} == -- ]] && shift
export DROCC_BIN=$BUILD/client/cli/drocc DROCCD_BIN=$BUILD/daemon/server/droccd
for b in "$DROCC_BIN" "$DROCCD_BIN" "$BUILD/bench/submit_bench"; do
  [[ -x $b ]] || { echo "missing $b: build first (deploy/dev/build-install.sh)" >&2; exit 1; }
done
. "$REPO/tests/e2e/lib.sh"  # a private droccd under $T, users' dirs, cleanup on exit
install -m 0755 "$BUILD/bench/submit_bench" "$T/bin/submit_bench"
# Throughput is what is measured here: no per-user submit rate limit (droccd.example.toml).
start_droccd "[limits]" "submit_rate_per_s = 0"
as dana drocc admin drain --reason "submit benchmark" >/dev/null
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "store: $T/droccd.db on $(df --output=source,fstype "$T" | tail -1)"
# The floor for any durable acknowledgement here: one synchronous 4 KiB write (write+fsync).
dd_out=$(dd if=/dev/zero of="$T/dsync.probe" bs=4k count=500 oflag=dsync 2>&1 | tail -1)
rm -f "$T/dsync.probe"
echo "storage floor: 500 synchronous 4 KiB writes (dd oflag=dsync): $dd_out"
as alice submit_bench --server "unix:$SOCK" "$@"
