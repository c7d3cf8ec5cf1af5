#!/usr/bin/env bash
# Acceptance 5: bad input gets one clear line on stderr, a non-zero exit, and no job stored.
. "$(dirname "$0")/lib.sh"
start_droccd
write_script alice ok.sbatch <<'JOB'
#!/bin/bash
echo fine
JOB
write_script alice noshebang.sbatch <<'JOB'
echo no interpreter line
JOB

check_bad() {  # check_bad EXPECTED_FRAGMENT ARGS...
  local expect=$1 out rc=0
  shift
  out=$(as alice drocc "$@" 2>&1 >/dev/null) || rc=$?
  ((rc != 0)) || fail "drocc $* succeeded"
  [[ $(wc -l <<<"$out") == 1 ]] || fail "drocc $*: expected one line, got: $out"
  assert_contains "$out" "$expect" "drocc $*"
  log "drocc $* -> $out"
}
check_bad "--bogus" submit --bogus ok.sbatch
check_bad "missing.sbatch" submit missing.sbatch
check_bad "abc" submit -t abc ok.sbatch
check_bad "-N" submit -N 0 ok.sbatch
check_bad "#!" submit noshebang.sbatch
check_bad "SCRIPT" submit
out=$(runuser -u alice -- env -C "$T/alice" DROCC_SERVER=unix:/nonexistent/droccd.sock DROCC_RETRY_SECONDS=1 \
  "$T/bin/drocc" submit ok.sbatch 2>&1 >/dev/null) && fail "submit to a missing daemon succeeded"
[[ $(wc -l <<<"$out") == 1 ]] || fail "unreachable daemon: expected one line, got: $out"
assert_contains "$out" "cannot reach droccd" "unreachable daemon"
assert_eq "$(as alice drocc jobs -o json | jq length)" 0 "jobs stored after bad input"
assert_eq "$(sqlite3 "$T/droccd.db" 'select count(*) from jobs')" 0 "rows in the job table"
# Root may not submit: jobs never run as root.
out=$(env -C "$T/alice" "$T/bin/drocc" --server "unix:$SOCK" submit ok.sbatch 2>&1 >/dev/null) &&
  fail "root's submit succeeded"
assert_contains "$out" "root" "root's submit"
pass
