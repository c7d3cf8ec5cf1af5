#!/usr/bin/env bash
# Run the whole drocc test suite on this machine, from a fresh Debian 12 as root:
#   1. dependencies, MUNGE, test users, a real 3-node Slurm cluster (deploy/dev/*)
#   2. build + install (build/, prefix /usr/local)
#   3. CI only (CI=true): a sanitizer build (build-asan/, ASan+UBSan) running the unit tests,
#      then the fuzz targets (build-fuzz/, clang), each for $DROCC_FUZZ_SECONDS (default 60)
#      (tests/fuzz/run.sh, docs/fuzzing.md)
#   4. ctest on build/ -- its summary is the last thing printed. The end-to-end tests
#      (label "cluster") start a private droccd each (tests/e2e/lib.sh), so none is started
#      here; deploy/dev/droccd-up.sh starts the shared one the demo uses.
# Exit status: non-zero if any step or any test failed.
#
# Env: CI=true                run the sanitizer build and the fuzz targets as well
#      DROCC_FUZZ_SECONDS     how long each fuzz target runs (default 60)
#      DROCC_SKIP_SETUP=1     skip step 1 (machine already prepared)
#      DROCC_CTEST_ARGS       extra ctest arguments, word-split (e.g. "-R Queue -j2")
#      DROCC_CLUSTER_NODES    nodes for cluster-up.sh (default 3)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEV=$ROOT/deploy/dev
BUILD=$ROOT/build
BUILD_ASAN=$ROOT/build-asan

step() { printf '\n===== %s (%s, %d s in) =====\n' "$*" "$(date +%T)" "$SECONDS" >&2; }

# MPI tests run `mpirun -n 4` directly (outside Slurm) and CI runs as root on a 2-core
# machine: OpenMPI refuses root without these two, and refuses more ranks than cores
# without oversubscription. (Inside a Slurm allocation neither is needed.)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# shellcheck disable=SC2206  # extra arguments are a word list on purpose
CTEST_EXTRA=(${DROCC_CTEST_ARGS:-})

# ---- 1. machine setup (all idempotent; quick when already done) ---------------------------
if [[ ${DROCC_SKIP_SETUP:-0} != 1 ]]; then
  step "install dependencies"
  "$DEV/install-deps.sh"
  step "MUNGE"
  "$DEV/munge-up.sh"
  step "test users"
  "$DEV/users.sh"
  step "Slurm cluster (${DROCC_CLUSTER_NODES:-3} nodes)"
  "$DEV/cluster-up.sh" --nodes "${DROCC_CLUSTER_NODES:-3}"
fi

# ---- 2. build and install ---------------------------------------------------------------------
step "build and install ($BUILD)"
"$DEV/build-install.sh" "$BUILD"

# ---- 3. sanitizer build: unit tests only (CI) -------------------------------------------------
asan_failed=0
if [[ ${CI:-} == true ]]; then
  step "sanitizer build ($BUILD_ASAN): unit tests"
  # Not installed: only the tests run from this tree.
  DROCC_NO_INSTALL=1 DROCC_CMAKE_ARGS="-DDROCC_SANITIZE=ON -DDROCC_BUILD_BENCH=OFF" \
    "$DEV/build-install.sh" "$BUILD_ASAN"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  if ! ctest --test-dir "$BUILD_ASAN" -L unit --output-on-failure --no-tests=error \
    "${CTEST_EXTRA[@]}"; then
    asan_failed=1
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

# ---- 3b. fuzz targets, a bounded run each (CI) ------------------------------------------------
fuzz_failed=0
if [[ ${CI:-} == true ]]; then
  step "fuzz targets ($ROOT/build-fuzz): ${DROCC_FUZZ_SECONDS:-60} s each"
  if ! "$ROOT/tests/fuzz/run.sh" --seconds "${DROCC_FUZZ_SECONDS:-60}" "$ROOT/build-fuzz"; then
    fuzz_failed=1
  fi
fi

# ---- 4. the main suite: its summary must be the last output -----------------------------------
if ((asan_failed)); then
  step "NOTE: sanitizer unit tests FAILED (see above); running the main suite anyway"
fi
if ((fuzz_failed)); then
  step "NOTE: fuzz targets FAILED (see above); running the main suite anyway"
fi
step "ctest ($BUILD)"
rc=0
ctest --test-dir "$BUILD" --output-on-failure --no-tests=error "${CTEST_EXTRA[@]}" || rc=$?
if ((rc == 0 && (asan_failed || fuzz_failed))); then rc=1; fi
exit "$rc"
