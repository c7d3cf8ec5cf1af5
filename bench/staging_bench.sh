#!/usr/bin/env bash
# bench/staging_bench.sh: drocc-stage against `cp -r` and `rsync -a`, side by side in one run
# (SPEC §9 "Staging", issue 6 acceptance 5), on two trees:
#   large: 8 files of 256 MiB        target: drocc-stage at least 0.9x cp's throughput
#   small: 20,000 files of 16 KiB    target: drocc-stage faster than cp
# and the bytes drocc-stage reads from the source with 1, 2 and 3 nodes (ranks given
# node names of their own, as several nodes on one host), against what a copy on every node
# (`cp -r` in each node's prologue) reads.
#
# Every timed copy starts with the page cache dropped (as root) and ends with `sync`, so each
# method reads from and writes to the disk; the destination is removed before each run. Each
# round runs every method once, starting with a different one each round: on a virtual machine
# the time of a copy depends on what ran just before it (memory the host took back). The
# drocc-stage time includes mpirun's start-up. All in one directory (default /tmp; --dir for
# another filesystem).
#
# Usage: bench/staging_bench.sh [BUILD_DIR] [-- --dir DIR --rounds N --trees "large small"
#        --large-count N --large-mib N --small-count N --small-kib N --nodes "1 2 3"]
# (--trees small times the small tree alone; the bytes-read table needs the large tree)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$REPO/build}
shift || true
[[ ${1:-} == -- ]] && shift
STAGE=$BUILD/runtime/tools/drocc-stage
[[ -x $STAGE ]] || { echo "missing $STAGE: build it first (make drocc-stage)" >&2; exit 1; }
DIR=${TMPDIR:-/tmp}
ROUNDS=3 TREES="large small" LARGE_COUNT=8 LARGE_MIB=256 SMALL_COUNT=20000 SMALL_KIB=16 NODES="1 2 3"
while (($#)); do
  case $1 in
    --dir) DIR=$2 ;;
    --rounds) ROUNDS=$2 ;;
    --trees) TREES=$2 ;;
    --large-count) LARGE_COUNT=$2 ;;
    --large-mib) LARGE_MIB=$2 ;;
    --small-count) SMALL_COUNT=$2 ;;
    --small-kib) SMALL_KIB=$2 ;;
    --nodes) NODES=$2 ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
for tree in $TREES; do
  [[ $tree == large || $tree == small ]] || { echo "--trees: \"$tree\" is neither large nor small" >&2; exit 2; }
done
for tool in cp rsync mpirun jq; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (apt-get install $tool)" >&2; exit 1; }
done
W=$(mktemp -d "$DIR/drocc-staging-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none)

drop_caches() {
  sync
  if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; fi
}
now() { date +%s.%N; }

# make_tree DIR COUNT BYTES: COUNT files of BYTES random bytes, at most 100 per directory.
make_tree() {
  local dir=$1 count=$2 bytes=$3 d n
  for ((d = 0; d * 100 < count; d++)); do
    n=$((count - d * 100 < 100 ? count - d * 100 : 100))
    mkdir -p "$dir/d$d"
    head -c $((bytes * n)) /dev/urandom | split -a 3 -d -b "$bytes" - "$dir/d$d/f"
  done
}

# timed METHOD SRC DST: seconds for one cold copy with METHOD, synced.
timed() {
  local method=$1 src=$2 dst=$3 t0 t1
  rm -rf "$dst"
  drop_caches
  t0=$(now)
  case $method in
    cp) cp -r "$src" "$dst" ;;
    rsync) rsync -a "$src/" "$dst/" ;;
    drocc-stage) "${MPIRUN[@]}" -n 1 "$STAGE" in "$src" "$dst" --quiet --no-report ;;
  esac
  sync
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r);" \
  "filesystem of $DIR: $(df -T "$W" | awk 'NR == 2 {print $2}'); $(date -u +%Y-%m-%dT%H:%MZ)"
[[ -w /proc/sys/vm/drop_caches ]] || echo "note: not root, the page cache is not dropped between runs"

declare -A BYTES
for tree in $TREES; do
  if [[ $tree == large ]]; then
    make_tree "$W/src-$tree" "$LARGE_COUNT" $((LARGE_MIB << 20))
  else
    make_tree "$W/src-$tree" "$SMALL_COUNT" $((SMALL_KIB << 10))
  fi
  BYTES[$tree]=$(find "$W/src-$tree" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')
done

echo
echo "median of $ROUNDS cold runs (page cache dropped, synced at the end); each round runs every"
echo "method once, starting with a different one each round, so that all see the same conditions;"
echo "'per round' is the median of each round's ratio to that round's cp"
printf '%-6s %-26s %-12s %10s %12s %10s %10s\n' tree files method seconds MiB/s "vs cp" "per round"
METHODS=(cp rsync drocc-stage)
RAW=""  # each round's seconds, listed after the table
for tree in $TREES; do
  if [[ $tree == large ]]; then desc="$LARGE_COUNT x $LARGE_MIB MiB"; else desc="$SMALL_COUNT x $SMALL_KIB KiB"; fi
  declare -A T=() R=()
  for ((r = 0; r < ROUNDS; r++)); do
    declare -A this=()
    for ((k = 0; k < ${#METHODS[@]}; k++)); do
      method=${METHODS[(r + k) % ${#METHODS[@]}]}
      this[$method]=$(timed "$method" "$W/src-$tree" "$W/dst-$tree-$method")
      rm -rf "$W/dst-$tree-$method"
    done
    for method in "${METHODS[@]}"; do
      T[$method]+="${this[$method]} "
      R[$method]+="$(awk -v a="${this[cp]}" -v b="${this[$method]}" 'BEGIN {printf "%.4f", a / b}') "
    done
  done
  for method in "${METHODS[@]}"; do
    RAW+="$(printf '%-6s %-12s %s' "$tree" "$method" "${T[$method]}")"$'\n'
    s=$(tr ' ' '\n' <<<"${T[$method]}" | grep . | median)
    ratio=$(tr ' ' '\n' <<<"${R[$method]}" | grep . | median)
    awk -v tree="$tree" -v desc="$desc" -v m="$method" -v s="$s" -v cp="$(tr ' ' '\n' <<<"${T[cp]}" | grep . | median)" \
      -v b="${BYTES[$tree]}" -v pr="$ratio" 'BEGIN {
        printf "%-6s %-26s %-12s %10.2f %12.1f %9.2fx %9.2fx\n", tree, desc, m, s, b / s / 1048576, cp / s, pr }'
  done
done
echo
echo "seconds of each round, in order:"
printf '%s' "$RAW"
[[ " $TREES " == *" large "* ]] || exit 0
echo
echo "bytes read from the source, stage-in of the large tree ($(numfmt --to=iec "${BYTES[large]}")B)"
printf '%-6s %22s %26s\n' nodes drocc-stage "cp -r on every node"
for n in $NODES; do
  rm -rf "$W"/dst-nodes-*
  stats=$W/stats-$n.json
  "${MPIRUN[@]}" -n "$n" "$STAGE" in "$W/src-large" "$W/dst-nodes-%n" --node-name 'node%r' \
    --quiet --no-report --stats-json "$stats"
  read_bytes=$(jq -r .source_bytes_read "$stats")
  nodes=$(jq -r .nodes "$stats")
  ((nodes == n)) || { echo "expected $n nodes, drocc-stage saw $nodes" >&2; exit 1; }
  printf '%-6s %22s %26s\n' "$n" "$read_bytes" "$((BYTES[large] * n))"
done
rm -rf "$W"/dst-nodes-*
