#!/usr/bin/env bash
# Acceptance 3: droccd killed with SIGKILL while a job runs, then restarted: the job is
# followed to its end, and Slurm holds exactly one job for it. Also: a second droccd on the
# same database, SIGTERM, and an online backup restored.
. "$(dirname "$0")/lib.sh"
# Reconciliation every 10 s (slurm.reconcile_interval_s), checked after the restart below.
DROCC_E2E_RECONCILE_S=10 start_droccd
write_script alice short.sbatch <<'JOB'
#!/bin/bash
sleep 15
echo done sleeping
JOB
id=$(submit alice -t 2 short.sbatch)
wait_state alice "$id" 60 RUNNING
stop_droccd KILL
log "droccd killed while job $id runs"
sleep 2
start_droccd
reconciled() { as_root_drocc admin status -o json | jq -r '.last_reconciliation // 0'; }
deadline=$((SECONDS + 15))
while reconciled_at_start=$(reconciled) && ((reconciled_at_start == 0)); do
  ((SECONDS < deadline)) || fail "no reconciliation at start-up in 15 s"
  sleep 0.2
done
wait_state alice "$id" 90 COMPLETED FAILED CANCELLED TIMEOUT LOST
assert_eq "$(field alice "$id" state)" COMPLETED "state after the restart"
assert_eq "$(field alice "$id" exit_code)" 0 "exit code after the restart"
n=$(slurm_jobs_of "$id")
assert_eq "$n" 1 "Slurm jobs carrying drocc:$id"
assert_contains "$(as alice drocc logs "$id")" "done sleeping" "output"
# ... and again reconcile_interval_s after the one at start-up.
deadline=$((SECONDS + 25))
while reconciled=$(reconciled) && ((reconciled == reconciled_at_start)); do
  ((SECONDS < deadline)) || fail "no reconciliation in 25 s after the one at start-up ($reconciled_at_start)"
  sleep 1
done
((reconciled >= reconciled_at_start + 10)) ||
  fail "reconciled at $reconciled, less than reconcile_interval_s = 10 after $reconciled_at_start"
log "reconciled at start-up ($reconciled_at_start) and again $((reconciled - reconciled_at_start)) s later"

# A restart while a job waits in drocc's queue (drained) keeps it and admits it later.
as dana drocc admin drain --reason "restart test" >/dev/null
id2=$(submit alice -t 2 short.sbatch)
assert_eq "$(field alice "$id2" state)" PENDING "state while drained"
stop_droccd KILL
start_droccd
assert_eq "$(field alice "$id2" state)" PENDING "state after a restart while drained"
assert_contains "$(field alice "$id2" reason)" "drained" "reason"
as dana drocc admin resume >/dev/null
wait_state alice "$id2" 60 RUNNING COMPLETED
n=$(slurm_jobs_of "$id2")
assert_eq "$n" 1 "Slurm jobs carrying drocc:$id2"

# A second droccd on the same database refuses to start (it would admit the same jobs).
sed "s|$SOCK|$T/second.sock|" "$T/droccd.toml" >"$T/second.toml"
out=$("$T/bin/droccd" --config "$T/second.toml" 2>&1) && fail "a second droccd started on the same database"
assert_contains "$out" "another droccd is using the job database" "second droccd"

# A submit while droccd is down: drocc retries UNAVAILABLE with the same idempotency key
# until droccd is back, and the job is stored once.
write_script alice quick.sbatch <<'JOB'
#!/bin/bash
true
JOB
jobs_before=$(as alice drocc jobs -o json | jq length)
stop_droccd TERM
as alice drocc submit --parsable -t 1 quick.sbatch >"$T/late.id" 2>"$T/late.err" &
late=$!
sleep 2
start_droccd
wait "$late" || fail "a submit while droccd restarted failed: $(cat "$T/late.err")"
id3=$(cat "$T/late.id")
assert_eq "$(as alice drocc jobs -o json | jq length)" "$((jobs_before + 1))" "jobs after a submit across a restart"

# SIGTERM with 16 submissions in flight: droccd finishes the calls it has, and drocc retries
# the others (same idempotency key) against the next droccd: every one is acknowledged and
# stored exactly once.
jobs_before=$(as alice drocc jobs -o json | jq length)
for i in $(seq 1 16); do
  as alice drocc submit --parsable -t 1 quick.sbatch >"$T/term.$i.id" 2>"$T/term.$i.err" &
done
sleep 0.2
kill -TERM "$DROCCD_PID"
timeout 15 tail --pid="$DROCCD_PID" -f /dev/null || fail "droccd still runs 15 s after SIGTERM"
wait "$DROCCD_PID" || fail "droccd's exit status after SIGTERM with calls in flight: $?"
DROCCD_PID=
start_droccd
for i in $(seq 1 16); do
  wait -n || fail "a submit across SIGTERM failed: $(cat "$T"/term.*.err)"
done
term_ids=$(cat "$T"/term.*.id | sort -un | wc -l)
assert_eq "$term_ids" 16 "distinct jobs acknowledged across SIGTERM"
assert_eq "$(as alice drocc jobs -o json | jq length)" "$((jobs_before + 16))" "jobs stored across SIGTERM"
for id in $(cat "$T"/term.*.id); do wait_state alice "$id" 60 COMPLETED; done

# An online backup (admins only, never over a file) restores to the same jobs. (Every job
# has ended first, so that nothing changes between the backup and the restore.)
wait_state alice "$id2" 60 COMPLETED
wait_state alice "$id3" 60 COMPLETED
as alice drocc admin backup "$T/alice/backup.db" 2>/dev/null && fail "alice made a backup"
[[ ! -e $T/alice/backup.db ]] || fail "a refused backup left a file"
out=$(as dana drocc admin backup "$T/backup.db") || fail "drocc admin backup failed: $out"
assert_contains "$out" "Backed up the job database to $T/backup.db" "backup"
[[ $(stat -c %a "$T/backup.db") == 600 ]] || fail "the backup is not private to root"
as dana drocc admin backup "$T/backup.db" 2>/dev/null && fail "a backup replaced a file"
before=$(as dana drocc jobs --all -o json | jq -c '[.[] | {id, state}] | sort_by(.id)')

# SIGTERM: a clean stop, exit status 0, the socket removed.
kill -TERM "$DROCCD_PID"
rc=0
timeout 15 tail --pid="$DROCCD_PID" -f /dev/null || fail "droccd still runs 15 s after SIGTERM"
wait "$DROCCD_PID" || rc=$?
DROCCD_PID=
assert_eq "$rc" 0 "droccd's exit status after SIGTERM"
[[ ! -e $SOCK ]] || fail "the socket is left behind after SIGTERM"
grep -q "droccd stopped" "$T/droccd.log" || fail "no 'droccd stopped' in the log"

# Restoring the backup (the database replaced by it) brings back the jobs as they were.
mv "$T/droccd.db" "$T/original.db"
rm -f "$T/droccd.db-wal" "$T/droccd.db-shm"
cp "$T/backup.db" "$T/droccd.db"
start_droccd
after=$(as dana drocc jobs --all -o json | jq -c '[.[] | {id, state}] | sort_by(.id)')
assert_eq "$after" "$before" "jobs after restoring the backup"
pass
