#!/usr/bin/env bash
# The quota-aware queue end to end, through the CLI, on the real cluster (issue 4,
# acceptance 3): dana (a drocc admin) creates an SME account, a project with carol as a member
# and a 2 gpu-hour grant. carol's job that the grant can pay runs and is charged its actual
# elapsed time; a second one whose time limit exceeds what is left waits with the budget
# reason and runs once the first has settled; a job beyond every grant is REJECTED with the
# numbers; `drocc usage -o csv` shows the charge. carol cannot create grants and cannot see
# another project. Every admin action, allowed or refused, is in the audit log. droccd killed
# while a job runs keeps its reservation and settles it exactly once (acceptance 4).
E2E_NO_DEFAULT_PROJECT=1
. "$(dirname "$0")/lib.sh"
start_droccd

as dana drocc admin account create acme --kind sme --description "Acme Robotics" >/dev/null ||
  fail "dana cannot create an account"
as dana drocc admin project create acme-vision --account acme >/dev/null ||
  fail "dana cannot create a project"
as dana drocc admin member add acme-vision carol >/dev/null || fail "dana cannot add carol"
as dana drocc admin grant create acme-vision 2 --resource gpu-hours --reference SME-2026-042 \
  >/dev/null || fail "dana cannot create a grant"
# Bad input gets a clear error and changes nothing.
out=$(as dana drocc admin grant create no-such-project 5 2>&1) && fail "a grant for an unknown project was accepted"
assert_contains "$out" 'project "no-such-project" does not exist' "grant for an unknown project"
out=$(as dana drocc admin grant create acme-vision 1.2345 2>&1) && fail "an amount with 4 decimals was accepted"
out=$(as dana drocc admin grant create acme-vision 5 --resource bogus-hours 2>&1) &&
  fail "a grant in an unknown resource was accepted"
assert_contains "$out" "gpu-hours" "grant in an unknown resource (lists the known ones)"
out=$(as dana drocc admin project create acme-x --account no-such-account 2>&1) &&
  fail "a project of an unknown account was accepted"
out=$(as dana drocc admin member add acme-vision no-such-user 2>&1) && fail "a member that is no user was added"
assert_contains "$out" 'no user "no-such-user"' "adding a user that does not exist"
assert_eq "$(as dana drocc admin grant list acme-vision -o json | jq length)" 1 "grants after refused creates"
# Another project carol is not in.
as dana drocc admin project create acme-other --account acme >/dev/null
as dana drocc admin grant create acme-other 5 --resource gpu-hours >/dev/null

balance=$(as carol drocc balance -o json) || fail "drocc balance failed"
assert_eq "$(jq -r '.[] | select(.resource == "gpu-hours") | .available_milli' <<<"$balance")" 2000 \
  "carol's available gpu-hours"

# 1 GPU for 60 minutes reserves 1.0 gpu-hours; it runs a few seconds.
write_script carol short.sbatch <<'JOB'
#!/bin/bash
#SBATCH -J short-gpu
#SBATCH --gpus-per-node=1
#SBATCH -t 60
echo "GPUs: $CUDA_VISIBLE_DEVICES"
sleep 6
JOB
# 1 GPU for 90 minutes: 1.5 gpu-hours, more than the 1.0 left while the first holds 1.0.
write_script carol long.sbatch <<'JOB'
#!/bin/bash
#SBATCH -J long-gpu
#SBATCH --gpus-per-node=1
#SBATCH -t 90
sleep 1
JOB

est=$(as carol drocc estimate --format json short.sbatch) || fail "drocc estimate failed"
assert_eq "$(jq -r '.admissible_now' <<<"$est")" true "estimate: admissible now"
assert_eq "$(jq -r '.project' <<<"$est")" acme-vision "estimate: project"

first=$(submit carol short.sbatch)
wait_state carol "$first" 60 RUNNING COMPLETED
second=$(submit carol long.sbatch)
sleep 2
assert_eq "$(field carol "$second" state)" PENDING "state of the second job while the first runs"
reason=$(field carol "$second" reason)
assert_eq "$reason" "waiting for budget: 1 running job reserves 1.0 of the remaining 2.0 gpu-hours" \
  "reason of the second job"
as carol drocc jobs | grep -q "waiting for budget" || fail "drocc jobs does not show the budget reason"

wait_state carol "$first" 60 COMPLETED
elapsed=$(as carol drocc show "$first" -o json |
  jq '(.end_time | fromdateiso8601) - (.start_time | fromdateiso8601)')
# Charged: elapsed seconds x 1 GPU / 3600, in milli-units, rounded up.
want=$(((elapsed * 1000 + 3599) / 3600))
charged=$(as carol drocc show "$first" -o json | jq -r '.charged_milli["gpu-hours"]')
assert_eq "$charged" "$want" "charge of the first job (${elapsed}s of 1 GPU)"
log "first job ran ${elapsed}s and was charged $charged milli gpu-hours"

wait_state carol "$second" 60 COMPLETED
charged2=$(as carol drocc show "$second" -o json | jq -r '.charged_milli["gpu-hours"]')

# Beyond every grant: 4 GPUs for an hour is 4.0 gpu-hours, the grant has 2.0.
write_script carol huge.sbatch <<'JOB'
#!/bin/bash
#SBATCH --gpus-per-node=4
#SBATCH -t 60
true
JOB
out=$(as carol drocc submit huge.sbatch 2>&1) && fail "a job beyond every grant was accepted: $out"
assert_contains "$out" "REJECTED" "drocc submit of a job beyond every grant"
assert_contains "$out" "4.0 gpu-hours" "drocc submit of a job beyond every grant"
rejected=$(as carol drocc jobs --state REJECTED -o json | jq -r '.[0].reason')
assert_contains "$rejected" "needs 4.0 gpu-hours" "reason of the rejected job"
assert_contains "$rejected" "(2.0 granted" "reason of the rejected job"

csv=$(as carol drocc usage -o csv) || fail "drocc usage -o csv failed"
log "usage: $csv"
assert_eq "$(head -1 <<<"$csv")" "project,user,month,resource,amount,jobs" "usage CSV header"
total=$((charged + charged2))
amount=$(awk -v m="$total" 'BEGIN { printf "%d.%03d", m / 1000, m % 1000 }' | sed 's/0*$//;s/\.$/.0/')
grep -qx "acme-vision,,,gpu-hours,$amount,2" <<<"$csv" ||
  fail "drocc usage -o csv does not show acme-vision,,,gpu-hours,$amount,2"

balance=$(as carol drocc balance -o json)
assert_eq "$(jq -r '.[] | select(.resource == "gpu-hours") | .charged_milli' <<<"$balance")" "$total" \
  "charged in carol's balance"
assert_eq "$(jq -r '.[] | select(.resource == "gpu-hours") | .reserved_milli' <<<"$balance")" 0 \
  "reserved in carol's balance once both ended"

# carol is a member, not an admin: no grants, no other projects, no per-user usage.
out=$(as carol drocc admin grant create acme-vision 100 --resource gpu-hours 2>&1) &&
  fail "carol created a grant"
assert_contains "$out" "is for drocc admins" "carol creating a grant"
out=$(as carol drocc balance -p acme-other 2>&1) && fail "carol saw another project's balance"
assert_contains "$out" "not a member of project" "carol reading another project"
out=$(as carol drocc usage -p acme-other 2>&1) && fail "carol saw another project's usage"
out=$(as carol drocc usage --per-user 2>&1 -p acme-vision) && fail "a member saw per-user usage"
out=$(as carol drocc admin audit 2>&1) && fail "carol read the audit log"

# A manager sees usage per user.
as dana drocc admin member update acme-vision carol --role manager >/dev/null
as carol drocc usage --per-user -o csv | grep -q "^acme-vision,carol," ||
  fail "a manager does not see usage per user"

# Acceptance 4 on the real cluster: droccd is killed between admission and the job's end; the
# reservation survives the restart and the job is settled exactly once.
write_script carol restart.sbatch <<'JOB'
#!/bin/bash
#SBATCH --gpus-per-node=1
#SBATCH -t 30
sleep 8
JOB
gpu() { as carol drocc balance -p acme-vision -o json | jq -r ".[] | select(.resource == \"gpu-hours\") | .$1"; }
charged_before=$(gpu charged_milli)
id=$(submit carol restart.sbatch)
wait_state carol "$id" 60 RUNNING
stop_droccd KILL
start_droccd
assert_eq "$(gpu reserved_milli)" 500 "reserved after a restart (1 GPU for 30 minutes)"
wait_state carol "$id" 60 COMPLETED
charged_job=$(as carol drocc show "$id" -o json | jq -r '.charged_milli["gpu-hours"]')
stop_droccd TERM
start_droccd
assert_eq "$(gpu charged_milli)" "$((charged_before + charged_job))" "charged after the job and two restarts"
assert_eq "$(gpu reserved_milli)" 0 "reserved after the job settled"
assert_eq "$(sqlite3 "$T/droccd.db" "SELECT count(*), sum(milli) FROM charges WHERE job_id = $id")" \
  "1|$charged_job" "charge rows of the job"

audit=$(as dana drocc admin audit -o json) || fail "dana cannot read the audit log"
jq -e '.[] | select(.action == "CreateGrant" and .user == "dana" and .ok == true)' \
  <<<"$audit" >/dev/null || fail "the audit log lacks dana's CreateGrant"
jq -e '.[] | select(.action == "CreateGrant" and .user == "carol" and .ok == false)' \
  <<<"$audit" >/dev/null || fail "the audit log lacks carol's refused CreateGrant"
jq -e '.[] | select(.action == "AddMember" and (.peer | length) > 0)' <<<"$audit" >/dev/null ||
  fail "the audit log lacks where AddMember came from"
pass
