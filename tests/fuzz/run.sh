#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz/*_fuzz.cc, clang, ASan+UBSan) and run each for a
# bounded time, two at a time (docs/fuzzing.md).
#
# Usage: tests/fuzz/run.sh [--seconds N] [BUILD_DIR]     (default: <repo>/build-fuzz)
#   --seconds N   how long each target runs (default $DROCC_FUZZ_SECONDS, else 60)
# Env:   DROCC_FUZZ_SECONDS   the default for --seconds
#        DROCC_JOBS           parallel build jobs (default 2)
#
# Each target starts from a copy of its seed corpus tests/fuzz/corpus/<target>/ (the repo's
# corpus is never written) in BUILD_DIR/fuzz-work/<target>/, with its dictionary
# tests/fuzz/<target>.dict. Inputs that crash, leak, hit undefined behaviour, time out (30 s)
# or run out of memory land in BUILD_DIR/fuzz-artifacts/; the summary names each one with the
# command that reproduces it. Exit status: 0 only if every target ran its time clean.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ_SRC=$ROOT/tests/fuzz

seconds=${DROCC_FUZZ_SECONDS:-60}
build=
while (($#)); do
  case $1 in
    --seconds)
      [[ $# -ge 2 ]] || { echo "run.sh: --seconds needs a value" >&2; exit 2; }
      seconds=$2
      shift 2
      ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    -h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      [[ -z $build ]] || { echo "run.sh: one BUILD_DIR only (see --help)" >&2; exit 2; }
      build=$1
      shift
      ;;
  esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || {
  echo "run.sh: --seconds must be a whole number of seconds >= 1, not \"$seconds\"" >&2
  exit 2
}
build=${build:-$ROOT/build-fuzz}
[[ $build == /* ]] || build=$PWD/$build

for tool in clang clang++ cmake timeout; do
  command -v "$tool" >/dev/null || {
    echo "run.sh: $tool not found: install the dependencies (deploy/dev/install-deps.sh" \
      "installs clang and libclang-rt-14-dev)" >&2
    exit 2
  }
done

targets=()
for src in "$FUZZ_SRC"/*_fuzz.cc; do targets+=("$(basename "$src" .cc)"); done

echo "== fuzz: building ${targets[*]} in $build" >&2
mkdir -p "$build"
cmake -S "$ROOT" -B "$build" -DDROCC_FUZZ=ON -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/fuzz-configure.log" 2>&1 || {
  cat "$build/fuzz-configure.log" >&2
  echo "run.sh: configuring $build failed (above)" >&2
  exit 2
}
cmake --build "$build" -j"${DROCC_JOBS:-2}" --target "${targets[@]}"

work=$build/fuzz-work
artifacts=$build/fuzz-artifacts
rm -rf "$work"
mkdir -p "$work" "$artifacts"

# Leaks are failures; UB stops the run (the code is built with -fno-sanitize-recover too).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run_target NAME: one bounded run; its output goes to $work/NAME.log, its exit status to
# $work/NAME.rc (124: the outer timeout fired).
run_target() {
  local name=$1 dir=$work/$1 dict=()
  mkdir -p "$dir/corpus"
  cp -r "$FUZZ_SRC/corpus/$name/." "$dir/corpus/"
  [[ -f $FUZZ_SRC/$name.dict ]] && dict=(-dict="$FUZZ_SRC/$name.dict")
  local rc=0
  # The outer timeout bounds loading the corpus and a hung run; libFuzzer stops itself at
  # -max_total_time.
  (cd "$dir" && timeout -k 10 $((seconds + 120)) "$build/tests/fuzz/$name" \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$name-" "${dict[@]}" corpus) >"$work/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$name.rc"
}

echo "== fuzz: ${#targets[@]} targets, $seconds s each, two at a time" \
  "(logs: $work/<target>.log)" >&2
before=$(date +%s)
# Artifacts of earlier runs are not this run's findings.
marker=$work/.started
touch "$marker"
running=0
for t in "${targets[@]}"; do
  if ((running == 2)); then
    wait -n || true
    running=$((running - 1))
  fi
  echo "   start $t" >&2
  run_target "$t" &
  running=$((running + 1))
done
wait || true

failed=0
printf '\n%-26s %-7s %12s %10s %8s %8s %8s\n' target result runs exec/s cov ft corpus
for t in "${targets[@]}"; do
  log=$work/$t.log
  rc=$(cat "$work/$t.rc" 2>/dev/null || echo 1)
  # The last status line: "#N  DONE  cov: C ft: F corp: K/S exec/s: E ..." (or the last
  # pulse/NEW line if the run stopped early).
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
  execs=$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$last")
  found=$(find "$artifacts" -maxdepth 1 -name "$t-*" -newer "$marker" -print 2>/dev/null || true)
  result=ok
  if ((rc == 124 || rc == 137)); then
    result=HUNG
  elif ((rc != 0)) || [[ -n $found ]] || ! grep -q 'Done [0-9]* runs' "$log"; then
    result=FAILED
  fi
  printf '%-26s %-7s %12s %10s %8s %8s %8s\n' "$t" "$result" "${runs:--}" "${execs:--}" \
    "${cov:--}" "${ft:--}" "${corp:--}"
  if [[ $result != ok ]]; then
    failed=1
    {
      echo "---- $t: $result (exit $rc); the end of $log:"
      grep -E 'ERROR: |invariant failed|SUMMARY: |runtime error' "$log" | head -n 20 || true
      tail -n 25 "$log"
      while read -r input; do
        [[ -n $input ]] || continue
        echo "  input:     $input"
        echo "  reproduce: $build/tests/fuzz/$t $input"
      done <<<"$found"
      echo "----"
    } >&2
  fi
done
echo "== fuzz: $(( $(date +%s) - before )) s in all" >&2
if ((failed)); then
  echo "== fuzz: FAILED (see above; docs/fuzzing.md says how to reproduce and fix)" >&2
  exit 1
fi
echo "== fuzz: every target ran $seconds s without a crash, leak, UB report or timeout" >&2
