#!/usr/bin/env bash
# droccd's resident memory while it holds a large backlog (issue 4, acceptance 5): writes a
# database with 1,000 projects and 100,000 pending jobs through the real store
# (bench/fill_store), starts a private droccd on it with admission drained (nothing reaches
# Slurm), and reports how long start-up took and droccd's resident memory (VmRSS, VmHWM)
# against the target of 100 MB. Needs root and a Slurm configuration droccd can read
# (deploy/dev/cluster-up.sh); stops droccd and removes its files when done.
#
# Usage: bench/admission_rss.sh [BUILD_DIR] [-- fill_store options, e.g. --jobs 200000]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$REPO/build}
shift || true
[[ ${1:-} == -- ]] && shift
for b in "$BUILD/bench/fill_store" "$BUILD/daemon/server/droccd" "$BUILD/client/cli/drocc"; do
  [[ -x $b ]] || { echo "missing $b: build first" >&2; exit 1; }
done
T=$(mktemp -d /tmp/drocc-admission-rss.XXXXXX)
PID=
cleanup() {
  [[ -n $PID ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
"$BUILD/bench/fill_store" --db "$T/droccd.db" "$@"
echo "database: $(du -h "$T/droccd.db" | cut -f1)"
cat >"$T/droccd.toml" <<CONF
[server]
socket = "$T/droccd.sock"
[store]
path = "$T/droccd.db"
[log]
level = "info"
CONF
start=$(date +%s.%N)
"$BUILD/daemon/server/droccd" --config "$T/droccd.toml" >"$T/droccd.log" 2>&1 &
PID=$!
until DROCC_RETRY_SECONDS=0 "$BUILD/client/cli/drocc" --server "unix:$T/droccd.sock" admin status -o json >"$T/status.json" 2>/dev/null; do
  kill -0 "$PID" 2>/dev/null || { cat "$T/droccd.log"; echo "droccd exited" >&2; exit 1; }
  sleep 0.1
done
ready=$(date +%s.%N)
# The first admission pass stores every job's pending reason (100,000 writes): wait until
# droccd is idle (under 5% of a core over a second), at most a minute.
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
before=$(cpu)
for _ in $(seq 1 60); do
  sleep 1
  now=$(cpu); [[ -n ${RSS_DEBUG:-} ]] && echo "cpu ticks $now" >&2
  (((now - before) * 100 < 5 * $(getconf CLK_TCK))) && break
  before=$now
done
idle=$(date +%s.%N)
pending=$(jq -r .pending_jobs "$T/status.json")
rss_kb=$(awk '/^VmRSS:/{print $2}' "/proc/$PID/status")
hwm_kb=$(awk '/^VmHWM:/{print $2}' "/proc/$PID/status")
awk -v p="$pending" -v s="$start" -v r="$ready" -v i="$idle" -v rss="$rss_kb" -v hwm="$hwm_kb" 'BEGIN {
  printf "droccd holding %s pending jobs: answering after %.1f s, idle after %.1f s; VmRSS %.1f MB, VmHWM %.1f MB\n",
    p, r - s, i - s, rss / 1024, hwm / 1024 }'
if ((rss_kb < 100 * 1024)); then echo "target: < 100 MB resident: met"; else echo "target: < 100 MB resident: NOT met"; fi
grep -E "quota:|loaded" "$T/droccd.log" | sed 's/^/droccd: /'
