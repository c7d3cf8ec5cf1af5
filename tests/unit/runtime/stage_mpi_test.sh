#!/usr/bin/env bash
# MPI acceptance tests of data staging (stage_mpi.cc over StageIn/StageOut, or the C API's
# stage_c_mpi.c, which takes the same arguments and prints the same JSON line).
#
#   stage_mpi_test.sh BIN in NP      NP ranks, each a node ("node%r"): stage-in of a mixed tree
#                                    (empty file, 1 byte, 300 small files, files of tens of MiB,
#                                    nested directories, internal symlinks, odd modes, mtimes
#                                    with nanoseconds); every node's copy compared with SRC
#                                    independently (diff -r, sha256sum, find -printf of types,
#                                    modes, mtimes, link targets); bytes read from SRC = the
#                                    tree's size; a second run reads nothing; after one file
#                                    changed only its bytes are read
#   stage_mpi_test.sh BIN pairs      4 ranks on 2 nodes (ranks 0,1 and 2,3): the same checks,
#                                    two copies, non-leaders waiting for the outcome
#   stage_mpi_test.sh BIN out NP     NP nodes stage out their own copy to DST/%n: each result
#                                    identical to its source; again over the previous result
#   stage_mpi_test.sh BIN errors NP  an escaping symlink, a missing SRC, two nodes with one
#                                    stage-out DST: every rank fails alike, nothing is copied
set -euo pipefail
BIN=$1
MODE=$2
NP=${3:-4}
# As root (CI) OpenMPI wants both flags; more ranks than cores needs oversubscription.
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
T=$(mktemp -d "${TMPDIR:-/tmp}/drocc-stage-mpi.XXXXXX")
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
unset DROCC_JOB_TOKEN DROCC_JOB_ID DROCC_SERVER SLURMD_NODENAME
SRC=$T/src

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# The tree of the acceptance test (about 75 MiB).
make_tree() {
  mkdir -p "$SRC"/{a/b/c,data,empty-dir,ro}
  : >"$SRC/empty"
  printf x >"$SRC/one"
  printf '#!/bin/sh\necho hi\n' >"$SRC/a/script.sh"
  chmod 755 "$SRC/a/script.sh"
  head -c 4097 /dev/urandom >"$SRC/a/b/c/deep.txt"
  chmod 600 "$SRC/a/b/c/deep.txt"
  for i in $(seq 0 299); do
    head -c $((100 + (i * 37) % 5000)) /dev/urandom >"$SRC/data/small-$i"
  done
  for mib in 12 24 36; do
    head -c $((mib * 1048576 + 333)) /dev/urandom >"$SRC/data/large-$mib"
  done
  printf 'read only\n' >"$SRC/ro/readonly.txt"
  chmod 444 "$SRC/ro/readonly.txt"
  ln -s one "$SRC/link-to-one"
  ln -s ../../../data "$SRC/a/b/c/link-to-data"
  ln -s does-not-exist "$SRC/a/dangling"
  touch -h -d '2021-03-04 05:06:07.123456789' "$SRC/link-to-one" "$SRC/a/dangling"
  find "$SRC" -type f -exec touch -d '2022-01-02 03:04:05.987654321' {} +
  touch -d '2020-01-01 00:00:00.5' "$SRC/data/large-24"
  chmod 555 "$SRC/ro"
  chmod 700 "$SRC/empty-dir"
  find "$SRC" -mindepth 1 -type d -exec touch -d '2019-06-07 08:09:10.111' {} +
  touch -d '2019-06-07 08:09:10.222' "$SRC"
}

tree_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

# Prints the number after "NAME": in the JSON line $2.
field() { [[ $2 =~ \"$1\":([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo "none"; }

expect_field() {  # NAME WANT JSON WHAT
  local got
  got=$(field "$1" "$3")
  [[ $got == "$2" ]] || fail "$4: $1 is $got, expected $2 ($3)"
}

# Compares the copy $2 with the tree $1 independently of the library.
same_tree() {
  local src=$1 dst=$2 what=$3
  diff -r --no-dereference -x .drocc-stage "$src" "$dst" >/dev/null || fail "$what: diff -r differs"
  local a b
  a=$(cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  b=$(cd "$dst" && find . -path ./.drocc-stage -prune -o -type f -print0 | sort -z |
      xargs -0 sha256sum)
  [[ $a == "$b" ]] || fail "$what: checksums differ"
  # Types, modes, mtimes (to the nanosecond), link targets; the root included.
  a=$(cd "$src" && find . -printf '%p %y %m %T@ %l\n' | sort)
  b=$(cd "$dst" && find . -path ./.drocc-stage -prune -o -printf '%p %y %m %T@ %l\n' | sort)
  [[ $a == "$b" ]] || fail "$what: types, modes, mtimes or link targets differ:
$(diff <(echo "$a") <(echo "$b") | head -20)"
}

stage() {  # NP in|out SRC DST ARGS...  -> the JSON line on stdout
  local np=$1
  shift
  "${MPIRUN[@]}" -n "$np" "$BIN" "$@" 2>"$T/stderr" || {
    cat "$T/stderr" >&2
    return 1
  }
}

# Stage-in on NP ranks; NODES node names (NAMES: the DST directory of each).
stage_in_checks() {
  local np=$1 nodes=$2
  shift 2
  local names=("$@") args=()
  if ((nodes == np)); then args=(--node-name='node%r'); else args=(--pair-nodes); fi
  local bytes files json
  bytes=$(tree_bytes "$SRC")
  files=$(find "$SRC" -type f | wc -l)
  json=$(stage "$np" in "$SRC" "$T/local/%n/data" "${args[@]}") || fail "stage-in failed"
  echo "$json"
  expect_field nodes "$nodes" "$json" "first run"
  expect_field files_total "$files" "$json" "first run"
  expect_field bytes_total "$bytes" "$json" "first run"
  expect_field source_bytes_read "$bytes" "$json" "first run"
  expect_field retries 0 "$json" "first run"
  grep -q "(final)" "$T/stderr" || fail "no final progress report"
  for n in "${names[@]}"; do same_tree "$SRC" "$T/local/$n/data" "node $n"; done
  ok "$nodes nodes ($np ranks): every copy identical, $bytes bytes read from SRC once"

  json=$(stage "$np" in "$SRC" "$T/local/%n/data" "${args[@]}") || fail "second stage-in failed"
  expect_field source_bytes_read 0 "$json" "second run"
  expect_field files_skipped "$files" "$json" "second run"
  ok "second run read nothing"

  head -c 777 /dev/urandom >>"$SRC/data/small-7"
  local size
  size=$(stat -c %s "$SRC/data/small-7")
  json=$(stage "$np" in "$SRC" "$T/local/%n/data" "${args[@]}") || fail "third stage-in failed"
  expect_field source_bytes_read "$size" "$json" "one file changed"
  expect_field files_copied 1 "$json" "one file changed"
  for n in "${names[@]}"; do same_tree "$SRC" "$T/local/$n/data" "node $n after a change"; done
  ok "one file changed: only its $size bytes read, every copy identical"
}

case $MODE in
  in)
    make_tree
    names=()
    for ((r = 0; r < NP; r++)); do names+=("node$r"); done
    stage_in_checks "$NP" "$NP" "${names[@]}"
    ;;
  pairs)
    make_tree
    stage_in_checks 4 2 pair0 pair1
    ;;
  out)
    make_tree
    for ((r = 0; r < NP; r++)); do
      mkdir -p "$T/local/node$r"
      cp -a "$SRC" "$T/local/node$r/results"
      echo "node $r" >"$T/local/node$r/results/whoami"
    done
    for round in first again; do
      json=$(stage "$NP" out "$T/local/%n/results" "$T/shared/%n" --node-name='node%r') ||
        fail "stage-out ($round) failed"
      echo "$json"
      expect_field nodes "$NP" "$json" "stage-out"
      for ((r = 0; r < NP; r++)); do
        same_tree "$T/local/node$r/results" "$T/shared/node$r" "stage-out of node$r ($round)"
      done
      leftovers=$(find "$T/shared" -maxdepth 1 -name '*drocc-stage*')
      [[ -z $leftovers ]] || fail "left beside DST: $leftovers"
      ok "stage-out ($round) on $NP nodes: every result complete under its name"
    done
    ;;
  errors)
    make_tree
    ln -s ../../../../etc/passwd "$SRC/a/b/escape"
    if stage "$NP" in "$SRC" "$T/local/%n/data" --node-name='node%r' >/dev/null; then
      fail "an escaping symlink was accepted"
    fi
    grep -q "points to ../../../../etc/passwd" "$T/stderr" || fail "no message naming the link"
    [[ ! -e $T/local ]] || fail "something was copied despite the escaping symlink"
    ok "escaping symlink refused on every rank, nothing copied"
    rm "$SRC/a/b/escape"

    if stage "$NP" in "$T/missing" "$T/local/%n/data" --node-name='node%r' >/dev/null; then
      fail "a missing SRC was accepted"
    fi
    grep -q "does not exist" "$T/stderr" || fail "no message for a missing SRC"
    ok "missing SRC: the same error on every rank"

    if stage "$NP" out "$SRC" "$T/shared/one-for-all" --node-name='node%r' >/dev/null; then
      ((NP == 1)) || fail "two nodes staged out to one DST"
    else
      grep -q "would both stage out to" "$T/stderr" || fail "no message for a shared DST"
      [[ ! -e $T/shared/one-for-all ]] || fail "a shared DST was written"
      ok "one DST for several nodes refused"
    fi
    ;;
  *)
    fail "unknown mode $MODE"
    ;;
esac
