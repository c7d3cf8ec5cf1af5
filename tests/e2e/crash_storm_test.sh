#!/usr/bin/env bash
# Crash storm (issue "Reliability: nothing acknowledged is ever lost, duplicated or charged
# twice"): CRASH_STORM_ROUNDS rounds (default 20), each killing droccd with SIGKILL at a random
# moment (0.1-2 s into the round) and restarting it at once, while 16 clients (alice, bob and
# carol) submit short jobs with `drocc submit`, which sends an idempotency key and retries
# UNAVAILABLE with the same key. Afterwards, once every job has ended:
#   - every acknowledged job exists, is the one its client asked for, and COMPLETED (a
#     submission that failed after all its retries is listed; most must be acknowledged);
#   - no (uid, idempotency key) and no client submission has two jobs, and there is no job the
#     clients did not ask for;
#   - Slurm holds at most one job per drocc id, and it is the one droccd recorded;
#   - every job that ran is charged exactly once (one settlement, whose charges rows add up to
#     its charged amount, nothing left reserved), and the project's balance is its grants
#     minus its charges, also after a clean restart.
# About 16 x ROUNDS jobs of one second. A longer storm (DROCC_BIN and DROCCD_BIN set):
#   flock /tmp/drocc-cluster.lock env CRASH_STORM_ROUNDS=100 bash tests/e2e/crash_storm_test.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/reliability_lib.sh"
ROUNDS=${CRASH_STORM_ROUNDS:-20}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || fail "CRASH_STORM_ROUNDS must be a positive number, not '$ROUNDS'"
CLIENTS=16
USERS=(alice bob carol)
# Jobs still running long after the storm mean Slurm could not keep up: not what is tested.
END_TIMEOUT=$((60 + ROUNDS * 3))

# rand_seconds MIN_MS MAX_MS: a random duration, printed in seconds for sleep.
rand_seconds() {
  local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
  printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

# storm_client N USER: submits up to ROUNDS jobs named storm-N-K, 1-2 s apart, until the storm
# is over; records each attempt, each acknowledgement ("ID NAME USER") and each failure.
storm_client() {
  trap - EXIT
  local c=$1 user=$2 k id rc name t0
  for ((k = 1; k <= ROUNDS; k++)); do
    load_over && break
    name=storm-$c-$k
    echo "$name" >>"$T/attempted.$c"
    rc=0
    t0=$(date +%T.%N)
    id=$(as "$user" drocc submit --parsable -t 1 -J "$name" storm.sbatch 2>"$T/err.$c") || rc=$?
    if ((rc == 0)) && [[ $id =~ ^[0-9]+$ ]]; then
      echo "$id $name $user" >>"$T/acked.$c"
    else
      echo "$name (${t0::12} to $(date +%T.%3N)): exit $rc, printed '$id':" \
        "$(tr '\n' ' ' <"$T/err.$c")" >>"$T/failed.$c"
    fi
    sleep "$(rand_seconds 1000 2000)"
  done
}

count_lines() { cat "$@" 2>/dev/null | wc -l; }

start_droccd "[admission]" "max_jobs_in_slurm = 200"
for u in "${USERS[@]}"; do
  write_script "$u" storm.sbatch <<'JOB'
#!/bin/bash
sleep 1
JOB
done

started=$SECONDS
for ((c = 1; c <= CLIENTS; c++)); do
  storm_client "$c" "${USERS[c % ${#USERS[@]}]}" &
  CLIENT_PIDS+=($!)
done
for ((r = 1; r <= ROUNDS; r++)); do
  delay=$(rand_seconds 100 2000)
  sleep "$delay"
  killed=$DROCCD_PID
  stop_droccd KILL
  t0=$(date +%s%N)
  start_droccd
  log "round $r/$ROUNDS: droccd $killed killed with SIGKILL after ${delay}s at" \
    "$(date -d "@${t0::10}.${t0:10:3}" +%T.%3N), answering again in" \
    "$((($(date +%s%N) - t0) / 1000000)) ms; so far $(count_lines "$T"/acked.*) acknowledged" \
    "of $(count_lines "$T"/attempted.*) submissions, $(count_lines "$T"/failed.*) failed"
done
stop_load
storm_s=$((SECONDS - started))
cat "$T"/attempted.* | sort >"$T/attempted"
cat "$T"/acked.* 2>/dev/null | sort -n >"$T/acked" || true
cat "$T"/failed.* 2>/dev/null >"$T/failed" || true
log "storm over after ${storm_s}s: $(wc -l <"$T/attempted") submissions," \
  "$(wc -l <"$T/acked") acknowledged; waiting for every job to end"

deadline=$((SECONDS + END_TIMEOUT))
while true; do
  status=$(as_root_drocc admin status -o json) || fail "drocc admin status failed"
  left=$(jq '.pending_jobs + .jobs_in_slurm' <<<"$status")
  ((left == 0)) && break
  ((SECONDS < deadline)) || fail "$left jobs still pending or in Slurm ${END_TIMEOUT}s after the storm"
  sleep 1
done
log "every job ended $((SECONDS - started - storm_s))s after the storm"

# A submission may fail (droccd was down whenever its client tried, for its whole retry
# window): the client was told, and it is not lost. It is listed, and checked below like the
# others (at most one job, a real one). The storm must still leave room to acknowledge most.
if [[ -s $T/failed ]]; then
  log "submissions that failed after their retries ($(wc -l <"$T/failed")):"
  sed 's/^/  /' "$T/failed" >&2
fi
(($(wc -l <"$T/acked") * 2 >= $(wc -l <"$T/attempted"))) ||
  fail "fewer than half the submissions were acknowledged: the storm tested little"

# Every acknowledged job exists, as what was submitted; each is `sleep 1`, so anything but
# COMPLETED (LOST, REJECTED, FAILED) is droccd's doing.
check "acknowledged jobs missing or not what was submitted" acknowledged_problems "$T/acked"
check "jobs that did not complete" db "SELECT id, name, state, exit_code, reason FROM jobs
  WHERE state <> 4 OR exit_code IS NOT 0"

# One job per key and per submission, none the clients did not ask for.
check "duplicated jobs" duplicate_problems
check "jobs without an idempotency key" db "SELECT id FROM jobs WHERE idempotency_key = ''"
db "SELECT id, name FROM jobs ORDER BY id" >"$T/db_jobs"
check "jobs no client submitted" awk 'NR == FNR { asked[$1] = 1; next } !($2 in asked)' \
  "$T/attempted" "$T/db_jobs"
jobs_n=$(wc -l <"$T/db_jobs")
((jobs_n >= $(wc -l <"$T/acked"))) || fail "$jobs_n jobs stored, fewer than acknowledged"
failed_stored=$(awk 'NR == FNR { stored[$2] = 1; next } { sub(/ .*/, "") } $0 in stored' \
  "$T/db_jobs" "$T/failed" | wc -l)

# Slurm holds exactly one job for each drocc job (all ran), the one droccd recorded.
check "Slurm jobs not one per drocc job" slurm_problems --complete

# Each job that ran is charged exactly once (no requeues here); the balance is grants -
# charges with nothing reserved, also after a clean restart.
check "jobs not charged exactly once" settlement_problems
check "balances that are not grants - charges" balance_problems e2e dana
stop_droccd TERM
start_droccd
check "balances that are not grants - charges after a clean restart" balance_problems e2e dana

log "summary: $ROUNDS SIGKILLs; $CLIENTS clients made $(wc -l <"$T/attempted") submissions," \
  "$(wc -l <"$T/acked") acknowledged, $(wc -l <"$T/failed") failed ($failed_stored of them" \
  "stored nonetheless); $jobs_n jobs stored" \
  "($(db "SELECT count(*) FROM jobs WHERE state = 4") COMPLETED)," \
  "$(wc -l <"$T/slurm.jobs") in Slurm," \
  "$(grep -c "adopting Slurm job" "$T/droccd.log" || true) adopted after a restart;" \
  "$(db "SELECT count(DISTINCT job_id) FROM charges") jobs charged" \
  "($(db "SELECT group_concat(resource || ' ' || milli, ', ') FROM
          (SELECT resource, sum(milli) AS milli FROM charges GROUP BY 1)") milli-units);" \
  "storm ${storm_s}s, test ${SECONDS}s"
checks_done
pass
