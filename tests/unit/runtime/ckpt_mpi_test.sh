#!/usr/bin/env bash
# MPI acceptance tests of the checkpoint core (ckpt_train.cc is the "training" program).
#
#   ckpt_mpi_test.sh TRAIN_BIN resume NP [MODE]
#                                          acceptance 1: save at step 8 on NP ranks, restore in
#                                          a new process, continue to 20: bit-identical to an
#                                          uninterrupted run (with per-rank callback state).
#                                          MODE (ckpt_train.cc): sync (default), async,
#                                          sync-local, async-local; each commit reported once
#                                          by on_commit; the node-local tier keeps only the
#                                          newest copy and is deleted before the restore
#   ckpt_mpi_test.sh TRAIN_BIN resize      acceptance 2: written by 4 ranks, restored on 2 and
#                                          on 8: bit-identical to an uninterrupted run
#   ckpt_mpi_test.sh TRAIN_BIN corrupt     a flipped byte in one rank's shard of the newest
#                                          checkpoint, or that shard missing: all 4 ranks fall
#                                          back to the previous one, say why, and still finish
#                                          bit-identical
#   ckpt_mpi_test.sh TRAIN_BIN threadlevel asynchronous mode under plain MPI_Init (no
#                                          MPI_THREAD_MULTIPLE): every rank refuses, saying how
#                                          to initialise MPI
set -euo pipefail
BIN=$1
MODE=$2
# As root (CI) OpenMPI wants both flags; more ranks than cores needs oversubscription.
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
N=1003   # not a multiple of any rank count used: uneven slices
T=$(mktemp -d "${TMPDIR:-/tmp}/drocc-ckpt-mpi.XXXXXX")
trap 'rm -rf "$T"' EXIT

run() {  # run NP DIR UNTIL SAVE_EVERY RESTORE CALLBACK OUT   (in ckpt_train's MODE $TRAIN_MODE)
  local np=$1; shift
  "${MPIRUN[@]}" -n "$np" "$BIN" "$1" "$N" "$2" "$3" "$4" "$5" "$6" "${TRAIN_MODE:-sync}"
}
fail() { echo "FAIL: $*" >&2; exit 1; }
same() {
  if ! cmp "$1" "$2"; then echo "FAIL: $3" >&2; exit 1; fi
  echo "ok: $3"
}

case $MODE in
  resume)
    NP=$3
    TRAIN_MODE=${4:-sync}
    run "$NP" "$T/none" 20 0 0 1 "$T/ref.bin"
    out=$(run "$NP" "$T/ck" 8 4 0 1 "$T/first.bin" 2>&1) || fail "first run: $out"
    [[ -f $T/ck/ckpt-000000000008/MANIFEST.json ]] || fail "no checkpoint 8"
    commits=$(grep "^committed step" <<<"$out" | cut -d' ' -f1-5 || true)
    [[ $commits == "committed step 4 ($NP ranks,"$'\n'"committed step 8 ($NP ranks," ]] ||
      fail "on_commit should report steps 4 and 8 once each, got: $commits"
    if [[ $TRAIN_MODE == *-local ]]; then
      local_copies=$(ls "$T/ck.local")
      [[ $local_copies == ckpt-000000000008 ]] ||
        fail "node-local tier should hold only the newest copy, has: $local_copies"
      rm -rf "$T/ck.local"  # node-local storage does not outlive the job
    fi
    run "$NP" "$T/ck" 20 4 1 1 "$T/resumed.bin"
    same "$T/ref.bin" "$T/resumed.bin" \
      "$NP ranks ($TRAIN_MODE): saved at 8, restored, continued to 20"
    ;;
  resize)
    run 1 "$T/none" 20 0 0 0 "$T/ref.bin"
    run 4 "$T/ck4" 8 4 0 0 "$T/first.bin"
    for np in 2 8; do
      cp -a "$T/ck4" "$T/ck-$np"
      run "$np" "$T/ck-$np" 20 0 1 0 "$T/on$np.bin"
      same "$T/ref.bin" "$T/on$np.bin" "written by 4 ranks, restored on $np"
    done
    ;;
  corrupt)
    run 4 "$T/none" 20 0 0 1 "$T/ref.bin"
    run 4 "$T/ck" 8 4 0 1 "$T/first.bin"
    cp -a "$T/ck" "$T/ck-missing"
    # Flip one byte in the middle of rank 2's shard of step 8.
    shard=$T/ck/ckpt-000000000008/shard-000002.bin
    printf '\xff' | dd of="$shard" bs=1 seek=100 count=1 conv=notrunc status=none
    out=$(run 4 "$T/ck" 20 0 1 1 "$T/flipped.bin" 2>&1)
    grep -q "restored step 4" <<<"$out" || { echo "FAIL: did not fall back: $out" >&2; exit 1; }
    grep -q "passing over.*ckpt-000000000008.*shard-000002.bin: checksum mismatch" <<<"$out" ||
      { echo "FAIL: no reason logged: $out" >&2; exit 1; }
    same "$T/ref.bin" "$T/flipped.bin" "flipped byte in rank 2's shard: fell back to step 4"
    rm "$T/ck-missing/ckpt-000000000008/shard-000003.bin"
    out=$(run 4 "$T/ck-missing" 20 0 1 1 "$T/missing.bin" 2>&1)
    grep -q "restored step 4" <<<"$out" || { echo "FAIL: did not fall back: $out" >&2; exit 1; }
    grep -q "shard-000003.bin is missing" <<<"$out" ||
      { echo "FAIL: no reason logged: $out" >&2; exit 1; }
    same "$T/ref.bin" "$T/missing.bin" "missing shard of rank 3: fell back to step 4"
    ;;
  threadlevel)
    TRAIN_MODE=async-single
    if out=$(run 2 "$T/ck" 8 4 0 0 "$T/out.bin" 2>&1); then fail "async without MPI_THREAD_MULTIPLE ran"; fi
    grep -q "requires MPI_THREAD_MULTIPLE, but MPI was initialised with MPI_THREAD_SINGLE" <<<"$out" ||
      fail "no clear refusal: $out"
    grep -q "MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided)" <<<"$out" ||
      fail "the refusal does not say what to do: $out"
    [[ ! -e $T/ck ]] || fail "a refused Create wrote something"
    echo "ok: asynchronous mode refused without MPI_THREAD_MULTIPLE"
    ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
