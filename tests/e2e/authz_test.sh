#!/usr/bin/env bash
# Acceptance 4: over the Unix socket bob sees nothing of alice's jobs (show, list, logs are
# refused; his own listing is empty); alice cannot cancel bob's job; a non-admin drain is
# refused while the admin dana may drain and resume; output behind a symlink is not read.
# The TCP listener's MUNGE checks run in tcp_auth_test (a C++ client).
. "$(dirname "$0")/lib.sh"
start_droccd
write_script alice sleep.sbatch <<'JOB'
#!/bin/bash
sleep 600
JOB
cp "$T/alice/sleep.sbatch" "$T/bob/sleep.sbatch" && chown bob:bob "$T/bob/sleep.sbatch"
a=$(submit alice -t 5 -J alices-secret sleep.sbatch)
b=$(submit bob -t 5 sleep.sbatch)

expect_denied() {  # expect_denied WHAT CMD...: fails with one line naming the refusal
  local what=$1 out rc=0
  shift
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  ((rc != 0)) || fail "$what: succeeded, expected a refusal"
  [[ $(wc -l <<<"$out") == 1 ]] || fail "$what: expected one line on stderr, got: $out"
  printf '%s\n' "$out"
}
out=$(expect_denied "bob shows alice's job" as bob drocc show "$a")
assert_contains "$out" "belongs to another user" "bob's show"
[[ $out != *alices-secret* ]] || fail "bob's error reveals the job name"
out=$(expect_denied "bob reads alice's logs" as bob drocc logs "$a")
assert_contains "$out" "belongs to another user" "bob's logs"
out=$(expect_denied "bob lists everyone's jobs" as bob drocc jobs --all)
assert_contains "$out" "only drocc admins" "bob's --all listing"
out=$(expect_denied "bob lists alice's jobs" as bob drocc jobs --user alice)
assert_contains "$out" "only drocc admins" "bob's --user alice listing"
assert_eq "$(as bob drocc jobs -o json | jq -r '[.[].id] | join(",")')" "$b" "bob's own listing"
out=$(expect_denied "alice cancels bob's job" as alice drocc cancel "$b")
assert_contains "$out" "belongs to another user" "alice's cancel"
wait_state bob "$b" 30 RUNNING ADMITTED  # untouched
out=$(expect_denied "alice drains admission" as alice drocc admin drain)
assert_contains "$out" "is for drocc admins" "alice's drain"
out=$(expect_denied "alice resumes admission" as alice drocc admin resume)
assert_contains "$out" "is for drocc admins" "alice's resume"
as dana drocc admin drain --reason "maintenance" | grep -q "drained" || fail "dana's drain"
as dana drocc admin resume | grep -q "open" || fail "dana's resume"
# An admin sees everything.
assert_eq "$(as dana drocc jobs --all -o json | jq length)" 2 "dana's listing"
as dana drocc show "$a" >/dev/null || fail "dana cannot show alice's job"
as alice drocc cancel "$a" >/dev/null
as bob drocc cancel "$b" >/dev/null

# Output whose path is a symlink to /etc/shadow is never read through droccd.
ln -s /etc/shadow "$T/alice/out.txt"
chown -h alice:alice "$T/alice/out.txt"
write_script alice echo.sbatch <<'JOB'
#!/bin/bash
echo hi
JOB
id=$(submit alice -t 1 -o out.txt echo.sbatch)
wait_state alice "$id" 60 COMPLETED FAILED CANCELLED
out=$(expect_denied "logs through a symlink" as alice drocc logs "$id")
assert_contains "$out" "symbolic link" "logs through a symlink"
[[ $out != *root:* ]] || fail "shadow content leaked"
pass
