#!/usr/bin/env bash
# Acceptance 2 (part): through the drocc binary as alice, against the real cluster: a hello
# job COMPLETES with exit 0 and its output is readable with `drocc logs`; `exit 3` ends
# FAILED with exit code 3; a `sleep 600` job cancelled ends CANCELLED within 10 s. Slurm's
# own record shows user alice, not root, and the drocc id in the comment.
. "$(dirname "$0")/lib.sh"
start_droccd

write_script alice hello.sbatch <<'JOB'
#!/bin/bash
#SBATCH -J hello-e2e
#SBATCH -n 1
#SBATCH -t 2
echo "hello from $(id -un) on $SLURMD_NODENAME in $PWD"
JOB
id=$(submit alice hello.sbatch)
wait_state alice "$id" 60 COMPLETED FAILED CANCELLED TIMEOUT LOST REJECTED
assert_eq "$(field alice "$id" state)" COMPLETED "state of the hello job"
assert_eq "$(field alice "$id" exit_code)" 0 "exit code of the hello job"
out=$(as alice drocc logs "$id")
assert_contains "$out" "hello from alice on n" "drocc logs"
assert_contains "$out" "in $T/alice" "drocc logs"
slurm_id=$(field alice "$id" slurm_job_id)
record=$(slurm_record "$slurm_id")
assert_contains "$record" "UserId=alice(" "Slurm's record"
assert_contains "$record" "Comment=drocc:$id" "Slurm's record"
for key in id name user state exit_code slurm_job_id submit_time start_time end_time nodes \
  ntasks gpus_per_node time_limit_s reason; do
  as alice drocc show "$id" -o json | jq -e "has(\"$key\")" >/dev/null || fail "show -o json lacks $key"
done
[[ $(field alice "$id" time_limit_s) == 120 ]] || fail "time_limit_s is not 120"
as alice drocc show "$id" | grep -q "COMPLETED" || fail "drocc show (table) does not say COMPLETED"

# drocc logs -f follows the output while the job runs and ends when the job ends.
write_script alice slow.sbatch <<'JOB'
#!/bin/bash
echo first line
sleep 4
echo last line
JOB
id=$(submit alice -t 2 slow.sbatch)
wait_state alice "$id" 60 RUNNING COMPLETED
start=$SECONDS
out=$(as alice timeout 60 drocc logs -f "$id") || fail "drocc logs -f failed or did not end"
assert_contains "$out" "first line" "drocc logs -f"
assert_contains "$out" "last line" "drocc logs -f"
assert_eq "$(field alice "$id" state)" COMPLETED "state after following"
log "followed the output for $((SECONDS - start)) s"

write_script alice exit3.sbatch <<'JOB'
#!/bin/bash
echo about to fail
exit 3
JOB
id=$(submit alice -t 2 exit3.sbatch)
wait_state alice "$id" 60 COMPLETED FAILED CANCELLED TIMEOUT LOST REJECTED
assert_eq "$(field alice "$id" state)" FAILED "state of the exit-3 job"
assert_eq "$(field alice "$id" exit_code)" 3 "exit code of the exit-3 job"

write_script alice sleep.sbatch <<'JOB'
#!/bin/bash
sleep 600
JOB
id=$(submit alice -t 15 sleep.sbatch)
wait_state alice "$id" 60 RUNNING
start=$SECONDS
as alice drocc cancel "$id" >/dev/null || fail "drocc cancel failed"
wait_state alice "$id" 10 CANCELLED
log "cancelled after $((SECONDS - start)) s"
slurm_id=$(field alice "$id" slurm_job_id)
assert_contains "$(slurm_record "$slurm_id")" "JobState=CANCELLED" "Slurm's record"
pass
