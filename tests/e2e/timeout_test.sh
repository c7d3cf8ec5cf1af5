#!/usr/bin/env bash
# Acceptance 2 (part): `-t 1` with `sleep 600` ends TIMEOUT.
. "$(dirname "$0")/lib.sh"
start_droccd
write_script alice sleep.sbatch <<'JOB'
#!/bin/bash
sleep 600
JOB
id=$(submit alice -t 1 sleep.sbatch)
wait_state alice "$id" 60 RUNNING
# Slurm kills at the limit (60 s) on its next time check (up to ~30 s later) + KillWait.
wait_state alice "$id" 180 TIMEOUT COMPLETED FAILED CANCELLED LOST
assert_eq "$(field alice "$id" state)" TIMEOUT "state"
pass
