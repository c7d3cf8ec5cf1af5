#!/usr/bin/env bash
# Reliability, acceptance 2: slurmctld stopped for 2 minutes during a stream of submissions,
# then started again. No submission is refused for it; droccd reports the outage (admin status,
# health service "slurm" NOT_SERVING, a warning on submit, the pending reason) and asks Slurm
# again with backoff; jobs that ended meanwhile are reconciled with their right end state; no
# job is lost or handed to Slurm twice. Also MUNGE down: a clear UNAVAILABLE error, no crash.
# Env: OUTAGE_SECONDS (default 120).
. "$(dirname "$0")/lib.sh"
OUTAGE=${OUTAGE_SECONDS:-120}
NODES=$(sinfo -h -N -o '%N' | sort -u | wc -l)
DEV=$(cd "$(dirname "$0")/../../deploy/dev" && pwd)

ctld_down=0
stream_pid=
# Whatever happens, stop the stream and leave MUNGE and the cluster running for the next test.
restore_then_cleanup() {
  local rc=$?
  set +e
  touch "$T/stop-stream"
  [[ -n $stream_pid ]] && kill "$stream_pid" 2>/dev/null && wait "$stream_pid" 2>/dev/null
  munge -n >/dev/null 2>&1 || "$DEV/munge-up.sh" >/dev/null 2>&1
  ((ctld_down)) && "$DEV/cluster-up.sh" --nodes "$NODES" >/dev/null 2>&1
  (exit "$rc")
  cleanup
}
trap restore_then_cleanup EXIT

port=$((20000 + RANDOM % 20000))
DROCC_E2E_TCP="127.0.0.1:$port" start_droccd

write_script alice ok.sbatch <<'JOB'
#!/bin/bash
sleep 20
echo finished during the outage
JOB
write_script alice bad.sbatch <<'JOB'
#!/bin/bash
sleep 25
exit 3
JOB
write_script alice quick.sbatch <<'JOB'
#!/bin/bash
true
JOB
ok=$(submit alice -t 10 ok.sbatch)
bad=$(submit alice -t 10 bad.sbatch)
wait_state alice "$ok" 60 RUNNING
wait_state alice "$bad" 60 RUNNING

# The submit stream: one job every second until told to stop; every result is recorded.
stream() {
  local n=0 out
  while [[ ! -e $T/stop-stream ]]; do
    n=$((n + 1))
    if out=$(as alice drocc submit --parsable -t 1 quick.sbatch 2>>"$T/stream.err"); then
      echo "$out" >>"$T/stream.ids"
    else
      echo "submission $n failed: $out" >>"$T/stream.failed"
    fi
    sleep 1
  done
}
stream &
stream_pid=$!
sleep 3

log "stopping slurmctld for ${OUTAGE}s"
ctld_down=1
down_at=$SECONDS
pkill -TERM -x slurmctld
for _ in $(seq 1 100); do pgrep -x slurmctld >/dev/null || break; sleep 0.1; done
pgrep -x slurmctld >/dev/null && fail "slurmctld did not stop"

# droccd notices (it polls every 0.3 s while jobs run) and says so everywhere.
# (The health service follows droccd's state within a second.)
deadline=$((SECONDS + 30))
while status=$(as_root_drocc admin status) &&
  [[ $status != *"Slurm: UNREACHABLE"* || $status != *"health (grpc.health.v1): slurm NOT_SERVING"* ]]; do
  ((SECONDS < deadline)) || fail "admin status does not report Slurm unreachable: $status"
  sleep 1
done
[[ $(as_root_drocc admin status -o json | jq -r .slurm_reachable) == false ]] || fail "JSON status says reachable"
out=$(as alice drocc submit -t 1 quick.sbatch 2>&1) || fail "a submit during the outage failed: $out"
assert_contains "$out" "drocc: warning: Slurm cannot be reached since" "submit during the outage"
assert_contains "$out" "Submitted drocc job" "submit during the outage"
during=$(sed -n 's/^Submitted drocc job \([0-9]*\).*/\1/p' <<<"$out")
# The next admission pass (at most every 10 s) stores the reason the job waits for.
deadline=$((SECONDS + 15))
until [[ $(field alice "$during" reason) == *"Slurm cannot be reached since"* ]]; do
  ((SECONDS < deadline)) || fail "the pending reason during the outage is: $(field alice "$during" reason)"
  sleep 1
done
assert_eq "$(field alice "$during" state)" PENDING "a job submitted during the outage"

# MUNGE down: calls over TCP (MUNGE-authenticated) fail with a clear UNAVAILABLE error,
# droccd stays up and keeps serving its Unix socket; back to normal once munged is.
log "stopping munged"
pkill -TERM -x munged
for _ in $(seq 1 50); do pgrep -x munged >/dev/null || break; sleep 0.1; done
rc=0
out=$(runuser -u alice -- env DROCC_RETRY_SECONDS=0 "$T/bin/drocc" --server "127.0.0.1:$port" jobs 2>&1) || rc=$?
((rc != 0)) || fail "a call over TCP worked without munged"
assert_contains "$out" "munge" "the error over TCP without munged"
assert_eq "$(wc -l <<<"$out")" 1 "lines of the error over TCP without munged"
kill -0 "$DROCCD_PID" || fail "droccd died while munged was down"
as alice drocc jobs >/dev/null || fail "the Unix socket stopped working while munged was down"
"$DEV/munge-up.sh" >/dev/null 2>&1 || fail "cannot restart munged"
runuser -u alice -- "$T/bin/drocc" --server "127.0.0.1:$port" jobs >/dev/null ||
  fail "TCP does not work again after munged is back"

# The rest of the outage; the two running jobs end meanwhile.
while ((SECONDS - down_at < OUTAGE)); do sleep 2; done
log "starting slurmctld again"
"$DEV/cluster-up.sh" --nodes "$NODES" >/dev/null 2>&1 || fail "cannot restart the cluster"
ctld_down=0
sleep 5
touch "$T/stop-stream"
wait "$stream_pid"

[[ ! -s $T/stream.failed ]] || fail "submissions failed during the outage: $(head -5 "$T/stream.failed")"
n=$(wc -l <"$T/stream.ids")
((n >= OUTAGE / 2)) || fail "only $n submissions in the stream"
log "$n submissions in the stream, none refused"

# Reconciled with the right end state.
wait_state alice "$ok" 90 COMPLETED FAILED CANCELLED TIMEOUT LOST
assert_eq "$(field alice "$ok" state)" COMPLETED "the job that finished during the outage"
assert_eq "$(field alice "$ok" exit_code)" 0 "its exit code"
wait_state alice "$bad" 90 COMPLETED FAILED CANCELLED TIMEOUT LOST
assert_eq "$(field alice "$bad" state)" FAILED "the job that failed during the outage"
assert_eq "$(field alice "$bad" exit_code)" 3 "its exit code"

# Every acknowledged job exists, runs once, and ends.
for id in $(cat "$T/stream.ids") "$during"; do
  wait_state alice "$id" 180 COMPLETED FAILED CANCELLED TIMEOUT LOST REJECTED
  assert_eq "$(field alice "$id" state)" COMPLETED "job $id of the stream"
  assert_eq "$(slurm_jobs_of "$id")" 1 "Slurm jobs carrying drocc job $id"
done
for id in "$ok" "$bad"; do assert_eq "$(slurm_jobs_of "$id")" 1 "Slurm jobs carrying drocc job $id"; done
total=$(as alice drocc jobs -n 1000 -o json | jq length)
assert_eq "$total" "$((n + 3))" "jobs in drocc (stream + 2 running + 1 during)"

status=$(as_root_drocc admin status)
assert_contains "$status" "Slurm: reachable" "admin status after the outage"
assert_contains "$status" "health (grpc.health.v1): slurm SERVING" "health after the outage"
[[ $(as_root_drocc admin status -o json | jq -r .health.slurm) == SERVING ]] || fail "JSON health after the outage"
grep -q "Slurm answers again" "$T/droccd.log" || fail "no 'Slurm answers again' in droccd's log"
# While slurmctld was down droccd did not wait out libslurm's retries on each call: it
# checked first that anything listens.
grep -q "does not accept connections" "$T/droccd.log" || fail "droccd never failed fast while slurmctld was down"
pass
