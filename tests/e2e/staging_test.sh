#!/usr/bin/env bash
# Issue 6 on the real 3-node cluster: a job of 3 nodes runs
#   srun --mpi=pmix -N 3 --ntasks-per-node=1 drocc-stage in SRC LOCAL/%n/data
# Every node's copy is identical to the source (diff -r, checksums, modes, mtimes, symlink
# targets), the bytes read from SRC (counted by the library) equal the tree's size; a second
# run copies nothing; after one file changed only that file moves. Progress reaches droccd
# (`drocc show`). Then each node stages its results out to the shared filesystem.
. "$(dirname "$0")/lib.sh"
: "${DROCC_STAGE_BIN:?set DROCC_STAGE_BIN}"
install -m 0755 "$DROCC_STAGE_BIN" "$T/bin/drocc-stage"
start_droccd

nodes=$(sinfo -h -o '%D' -p debug | head -1)
((nodes >= 3)) || fail "this test needs the 3-node cluster (deploy/dev/cluster-up.sh --nodes 3)"

# The dataset, on the "shared filesystem" (all simulated nodes share this host's /tmp): empty
# and 1-byte files, many small ones, a few of tens of MiB, nested and empty directories,
# internal symlinks, unusual modes and old mtimes.
SRC=$T/alice/dataset
LOCAL=$T/alice/local
mkdir -p "$SRC"/{a/b/c,empty-dir,small/x,small/y}
: >"$SRC/empty"
printf x >"$SRC/one-byte"
for i in $(seq 1 400); do
  head -c $((RANDOM % 20000)) /dev/urandom >"$SRC/small/$((i % 2 == 0 ? 1 : 0))-$i"
done
for i in $(seq 1 100); do head -c $((i * 97)) /dev/urandom >"$SRC/small/x/f$i"; done
head -c $((24 << 20)) /dev/urandom >"$SRC/big-1.bin"
head -c $((24 << 20)) /dev/urandom >"$SRC/a/b/c/big-2.bin"
head -c $((10 << 20)) /dev/urandom >"$SRC/a/big-3.bin"
ln -s ../one-byte "$SRC/a/link-to-file"
ln -s b/c "$SRC/a/link-to-dir"
chmod 0600 "$SRC/a/big-3.bin"
chmod 0750 "$SRC/a/b"
touch -d '2020-02-02 02:02:02' "$SRC/one-byte" "$SRC/small/x/f7"
chown -R alice:alice "$SRC"
touch -d '2021-03-03 03:03:03' "$SRC/empty-dir"

tree_bytes=$(find "$SRC" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
tree_files=$(find "$SRC" -type f | wc -l)
log "dataset: $tree_files files, $tree_bytes bytes"

write_script alice stage.sh <<'SCRIPT'
#!/bin/bash
#SBATCH -t 5
set -euo pipefail
srun --mpi=pmix -N "$SLURM_NNODES" --ntasks-per-node=1 \
  drocc-stage "$STAGE_DIRECTION" "$STAGE_SRC" "$STAGE_DST" --stats-json "$STAGE_STATS"
SCRIPT

# stage DIRECTION SRC DST NAME: runs drocc-stage in a 3-node job; prints the stats file
# (the job id is left in $T/last-job: this runs in a command substitution).
stage() {
  local id out
  id=$(as alice env STAGE_DIRECTION="$1" STAGE_SRC="$2" STAGE_DST="$3" \
    STAGE_STATS="$T/alice/$4.json" drocc submit --parsable -N 3 --ntasks-per-node=1 stage.sh) ||
    fail "drocc submit stage.sh failed: $id"
  wait_state alice "$id" 180 COMPLETED FAILED CANCELLED TIMEOUT LOST REJECTED
  out=$(as alice drocc logs "$id")
  assert_eq "$(field alice "$id" state)" COMPLETED "state of the staging job $4 (output: $out)"
  log "$4: $(grep 'drocc-stage' <<<"$out" | tail -1)"
  printf '%s\n' "$id" >"$T/last-job"
  printf '%s\n' "$T/alice/$4.json"
}
stat_of() { jq -r ".$2" "$1"; }

# listing DIR: what must be equal between the source and a copy: every path with its type,
# mode and (for files and directories) mtime, symlink target, and a checksum of each file.
listing() {
  (cd "$1" && find . -path ./.drocc-stage -prune -o -printf '%y %P %m %l\n' | sort)
  (cd "$1" && find . -path ./.drocc-stage -prune -o \( -type f -o -type d \) -printf '%P %T@\n' |
    sort)
  (cd "$1" && find . -path ./.drocc-stage -prune -o -type f -print0 | sort -z |
    xargs -0 sha256sum)
}
check_copies() {
  local want n
  want=$(listing "$SRC")
  for n in n1 n2 n3; do
    [[ -d $LOCAL/$n/data ]] || fail "node $n has no copy in $LOCAL/$n/data"
    diff -r --no-dereference -x .drocc-stage "$SRC" "$LOCAL/$n/data" ||
      fail "node $n's copy differs from the source ($1)"
    [[ $(listing "$LOCAL/$n/data") == "$want" ]] ||
      fail "node $n's copy differs in modes, mtimes, links or checksums ($1): $(diff <(echo "$want") <(listing "$LOCAL/$n/data") | head -20)"
  done
}

# 1. First stage-in: every byte read once, whatever the node count.
s=$(stage in "$SRC" "$LOCAL/%n/data" first)
assert_eq "$(stat_of "$s" nodes)" 3 "nodes"
assert_eq "$(stat_of "$s" files_total)" "$tree_files" "files in the tree"
assert_eq "$(stat_of "$s" files_copied)" "$tree_files" "files copied by the first run"
assert_eq "$(stat_of "$s" source_bytes_read)" "$tree_bytes" "bytes read from SRC by the first run"
check_copies "first run"
progress=$(as alice drocc show "$(cat "$T/last-job")" -o json | jq -c '.progress[]? | select(.phase == "stage-in")')
[[ -n $progress ]] || fail "droccd received no stage-in progress for job $(cat "$T/last-job")"
assert_eq "$(jq -r '.bytes_total' <<<"$progress")" "$tree_bytes" "bytes_total reported to droccd"

# 2. Again: nothing moves.
s=$(stage in "$SRC" "$LOCAL/%n/data" second)
assert_eq "$(stat_of "$s" files_copied)" 0 "files copied by the second run"
assert_eq "$(stat_of "$s" source_bytes_read)" 0 "bytes read from SRC by the second run"
assert_eq "$(stat_of "$s" files_skipped)" "$tree_files" "files skipped by the second run"
check_copies "second run"

# 3. One file changed: only it moves.
head -c 12345 /dev/urandom >>"$SRC/small/x/f50"
changed=$(stat -c %s "$SRC/small/x/f50")
s=$(stage in "$SRC" "$LOCAL/%n/data" third)
assert_eq "$(stat_of "$s" files_copied)" 1 "files copied after one changed"
assert_eq "$(stat_of "$s" source_bytes_read)" "$changed" "bytes read from SRC after one file changed"
check_copies "after one file changed"

# 4. Stage-out: each node's results to its own place on the shared filesystem, complete.
for n in n1 n2 n3; do
  mkdir -p "$LOCAL/$n/out/logs"
  printf 'result of %s\n' "$n" >"$LOCAL/$n/out/result.txt"
  head -c $((3 << 20)) /dev/urandom >"$LOCAL/$n/out/logs/model.bin"
done
chown -R alice:alice "$LOCAL"
install -d -o alice -g alice "$T/alice/results"
s=$(stage out "$LOCAL/%n/out" "$T/alice/results/%n" out)
assert_eq "$(stat_of "$s" nodes)" 3 "nodes staging out"
for n in n1 n2 n3; do
  diff -r --no-dereference "$LOCAL/$n/out" "$T/alice/results/$n" ||
    fail "node $n's results on the shared filesystem differ from its local ones"
done
leftovers=$(find "$T/alice/results" -maxdepth 1 -name '*drocc-stage*')
assert_eq "$leftovers" "" "temporary names left after stage-out"
pass
