#!/usr/bin/env bash
# Issue 5, acceptance 4: the checkpoint example through drocc on the real cluster. A stop
# signal (as Slurm's --signal=B:USR1 sends it, here by `scancel --batch --signal=USR1`)
# makes every rank stop at the same step, write a final checkpoint and ask droccd for a
# requeue; droccd shows the job REQUEUED, then RUNNING again; it resumes from that checkpoint
# and ends COMPLETED with the result of an uninterrupted run. `drocc show` lists the
# checkpoints; a runtime call with another job's token is refused; progress reported with a
# job's token shows in `drocc show`.
. "$(dirname "$0")/lib.sh"
: "${CKPT_EXAMPLE_BIN:?set CKPT_EXAMPLE_BIN}"
: "${RUNTIME_PROBE_BIN:?set RUNTIME_PROBE_BIN}"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
install -m 0755 "$CKPT_EXAMPLE_BIN" "$T/bin/ckpt_example"
start_droccd

install -o alice -g alice -m 0644 "$REPO/examples/checkpoint/job.sbatch" "$T/alice/job.sbatch"
steps=150
# submit_example ARGS: the example job as alice; drocc submit exports the environment.
submit_example() {
  local id
  id=$(as alice env CKPT_EXAMPLE="$T/bin/ckpt_example" CKPT_ARGS="$1" \
    drocc submit --parsable job.sbatch) || fail "drocc submit job.sbatch failed: $id"
  printf '%s\n' "$id"
}
# The reference: the same program, uninterrupted.
id_ref=$(submit_example "--steps $steps --every 10 --dir ref")
# The one that is stopped: 0.25 s per step, about 40 s in all.
id=$(submit_example "--steps $steps --every 10 --step-ms 250")

wait_state alice "$id_ref" 180 COMPLETED FAILED CANCELLED TIMEOUT LOST REJECTED
ref_out=$(as alice drocc logs "$id_ref")
assert_eq "$(field alice "$id_ref" state)" COMPLETED "state of the reference job ($ref_out)"
ref=$(grep '^result:' <<<"$ref_out") || fail "the reference job printed no result: $ref_out"
log "reference: $ref"

# Once it has committed a checkpoint or two (reported to droccd), send the stop signal.
wait_state alice "$id" 120 RUNNING
deadline=$((SECONDS + 60))
until (($(as alice drocc show "$id" -o json | jq '.checkpoints | length') >= 2)); do
  ((SECONDS < deadline)) || fail "job $id reported no checkpoint in 60 s"
  sleep 0.5
done
slurm_id=$(field alice "$id" slurm_job_id)
log "job $id (Slurm $slurm_id) has checkpoints; sending SIGUSR1 to its batch shell"
scancel --batch --signal=USR1 "$slurm_id"

wait_state alice "$id" 60 REQUEUED COMPLETED FAILED CANCELLED TIMEOUT LOST
assert_eq "$(field alice "$id" state)" REQUEUED "state after the stop signal"
assert_contains "$(field alice "$id" reason)" "requeued at the job's request: checkpoint at step" \
  "reason of the requeue"
stop_step=$(field alice "$id" reason | sed -n 's/.*checkpoint at step \([0-9]*\).*/\1/p')
((stop_step < steps - 1)) || fail "the job stopped at step $stop_step, not before its end"
charged_first=$(field alice "$id" charged_milli | jq -r '[.[]] | add // 0')
((charged_first > 0)) || fail "the first run was not charged when requeued ($charged_first)"

wait_state alice "$id" 240 RUNNING COMPLETED FAILED CANCELLED TIMEOUT LOST
wait_state alice "$id" 180 COMPLETED FAILED CANCELLED TIMEOUT LOST
out=$(as alice drocc logs "$id")
assert_eq "$(field alice "$id" state)" COMPLETED "state of the requeued job ($out)"
# --open-mode=append: the first run's output is still there, before the second's.
assert_contains "$out" "stopping after step $stop_step with a final checkpoint" "output of the first run"
assert_contains "$out" "resuming from the checkpoint of step $stop_step" "output of the second run"
assert_eq "$(grep '^result:' <<<"$out")" "$ref" "result after the requeue"
assert_eq "$(field alice "$id" requeue_count)" 1 "requeue count"

json=$(as alice drocc show "$id" -o json)
states=$(jq -r '[.events[].state] | join(" ")' <<<"$json")
assert_contains "$states" "RUNNING REQUEUED RUNNING COMPLETED" "history"
# Each run charged once: the total is more than the first run alone and no more than both
# runs' time limits allow.
charged=$(jq -r '[.charged_milli[]] | add' <<<"$json")
((charged > charged_first)) || fail "the second run was not charged ($charged vs $charged_first)"
assert_eq "$(jq -r '.reserved_milli | length' <<<"$json")" 0 "reservation left after the end"
steps_listed=$(jq -r '[.checkpoints[].step] | map(tostring) | join(" ")' <<<"$json")
assert_contains " $steps_listed " " $stop_step " "checkpoints listed"
assert_contains " $steps_listed " " $((steps - 1)) " "checkpoints listed"
assert_contains "$(as alice drocc show "$id")" "Checkpoints (" "drocc show"

# A job's token opens that job only: job 2's token for job 1 is refused, for job 2 accepted.
write_script alice token.sh <<'SCRIPT'
#!/bin/bash
echo "token=$DROCC_JOB_TOKEN id=$DROCC_JOB_ID server=$DROCC_SERVER"
sleep 60
SCRIPT
id_tok=$(submit alice -t 2 token.sh)
wait_state alice "$id_tok" 60 RUNNING
deadline=$((SECONDS + 30))
until line=$(as alice drocc logs "$id_tok" 2>/dev/null | grep '^token='); do
  ((SECONDS < deadline)) || fail "job $id_tok did not print its token"
  sleep 0.5
done
token=${line#token=}
token=${token%% *}
assert_contains "$line" "id=$id_tok server=unix:$SOCK" "the job's environment"
probe=$("$RUNTIME_PROBE_BIN" "unix:$SOCK" "$id" "$token") && fail "another job's token was accepted: $probe"
assert_contains "$probe" "PERMISSION_DENIED" "a call with another job's token"
probe=$("$RUNTIME_PROBE_BIN" "unix:$SOCK" "$id_tok" "$token") || fail "its own token was refused: $probe"

# Progress, as data staging and training report it: the latest report of each phase, listed
# by `drocc show` in the order the phases first reported.
progress() { "$RUNTIME_PROBE_BIN" "unix:$SOCK" "$1" "$token" progress "${@:2}"; }
probe=$(progress "$id_tok" stage-in -1 512 1024 "half way") || fail "progress refused: $probe"
probe=$(progress "$id_tok" train 7 0 0 "loss 0.5") || fail "progress refused: $probe"
probe=$(progress "$id_tok" stage-in -1 1024 1024 "12 files, verified") ||
  fail "progress refused: $probe"
probe=$(progress "$id" stage-in -1 1 2 "") && fail "another job's token reported progress: $probe"
assert_contains "$probe" "PERMISSION_DENIED" "progress with another job's token"
probe=$(progress "$id_tok" "stage in" -1 1 2 "") && fail "a bad phase was accepted: $probe"
assert_contains "$probe" "INVALID_ARGUMENT: phase \"stage in\" is not a phase name" "a bad phase"
probe=$(progress "$id_tok" stage-out -1 3 2 "") && fail "bytes_done > bytes_total accepted: $probe"
assert_contains "$probe" "INVALID_ARGUMENT: bytes_done (3) exceeds bytes_total (2)" "bad bytes"
json=$(as alice drocc show "$id_tok" -o json)
assert_eq "$(jq -c '[.progress[] | [.phase, .step, .bytes_done, .bytes_total, .percent, .message]]' \
  <<<"$json")" '[["stage-in",null,1024,1024,100,"12 files, verified"],["train",7,0,0,null,"loss 0.5"]]' \
  "progress in drocc show -o json"
[[ $(jq -r '.progress[0].time' <<<"$json") == 20*Z ]] || fail "progress without a time: $json"
table=$(as alice drocc show "$id_tok")
assert_contains "$table" $'\nProgress:\nPHASE' "drocc show"
grep -Eq '^stage-in +- +1.0 KiB / 1.0 KiB +100% +[0-9dhms ]+ ago +12 files, verified$' <<<"$table" ||
  fail "drocc show lacks the stage-in row: $table"
grep -Eq '^train +7 +- +- +[0-9dhms ]+ ago +loss 0.5$' <<<"$table" ||
  fail "drocc show lacks the train row: $table"
as alice drocc cancel "$id_tok" >/dev/null
pass
