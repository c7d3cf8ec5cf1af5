#!/usr/bin/env bash
# What the crash storm (tests/e2e/crash_storm_test.sh) and the soak (bench/soak.sh) check once
# their load is over: nothing acknowledged lost, nothing duplicated, nothing charged twice.
# Source after lib.sh. Each *_problems function prints the offenders, one a line, naming the
# jobs; nothing when all is well.

# The load runs in background loops (their pids in CLIENT_PIDS) that stop by themselves once
# load_over; stop_load ends it and waits. On any exit the loops are stopped too, then lib.sh's
# cleanup stops droccd and this test's Slurm jobs.
CLIENT_PIDS=()
load_over() { [[ -e $T/load.over ]]; }
stop_load() {
  touch "$T/load.over"
  wait "${CLIENT_PIDS[@]}"
  CLIENT_PIDS=()
}
cleanup_load() {
  local rc=$?
  set +e # (exit "$rc") hands cleanup the status; under set -e it would end the shell here
  touch "$T/load.over"
  ((${#CLIENT_PIDS[@]} == 0)) || kill "${CLIENT_PIDS[@]}" 2>/dev/null
  (exit "$rc")
  cleanup
}
trap cleanup_load EXIT

# db SQL: a read-only query of this droccd's database, fields separated by spaces.
db() { sqlite3 -readonly -separator ' ' "$T/droccd.db" "$1"; }

CHECKS_FAILED=0
# check WHAT CMD...: runs CMD, which prints offenders one a line, and logs them as a failed
# check; checks_done then fails the test. So one run reports every problem it finds.
check() {
  local what=$1 out
  shift
  out=$("$@") || fail "cannot check $what: $* failed"
  [[ -z $out ]] && return 0
  log "FAILED CHECK: $what ($(wc -l <<<"$out")): $(head -n 20 <<<"$out" | tr '\n' ';')"
  CHECKS_FAILED=$((CHECKS_FAILED + 1))
}
checks_done() { ((CHECKS_FAILED == 0)) || fail "$CHECKS_FAILED checks failed (see above)"; }

# acknowledged_problems ACKED: ACKED holds "ID NAME USER" per acknowledged submission. Prints
# those droccd does not show (as root, through drocc) as that user's job of that name. A
# listing holds at most 1000 jobs per user: older ones are looked up one by one.
acknowledged_problems() {
  local acked=$1 api=$T/acknowledged.api u id
  : >"$api"
  for u in $(awk '{ print $3 }' "$acked" | sort -u); do
    as_root_drocc jobs -u "$u" -n 1000 -o json | jq -r '.[] | "\(.id) \(.name) \(.user)"' >>"$api" ||
      return 1
  done
  while read -r id _; do
    grep -q "^$id " "$api" && continue
    as_root_drocc show "$id" -o json 2>/dev/null | jq -r '"\(.id) \(.name) \(.user)"' >>"$api" || true
  done <"$acked"
  awk 'NR == FNR { job[$1] = $2 " of " $3; next }
       !($1 in job) { print $1 " (" $2 " of " $3 "): missing"; next }
       job[$1] != $2 " of " $3 { print $1 ": is " job[$1] ", acknowledged as " $2 " of " $3 }' \
    "$api" "$acked"
}

# duplicate_problems: (uid, idempotency key) pairs with several jobs, and job names with several
# jobs (the tests give each submission its own name; a retry keeps it).
duplicate_problems() {
  db "SELECT 'key of uid ' || uid || ': jobs ' || group_concat(id) FROM jobs
      WHERE idempotency_key <> '' GROUP BY uid, idempotency_key HAVING count(*) > 1
      UNION ALL
      SELECT 'name ' || name || ': jobs ' || group_concat(id) FROM jobs GROUP BY name
      HAVING count(*) > 1"
}

# slurm_problems [--complete]: drocc ids with several Slurm jobs of this test; Slurm jobs of
# this test droccd does not follow as their job's; jobs whose recorded Slurm job is not the one
# Slurm holds for them. --complete: also every job droccd handed to Slurm must still be there
# (Slurm forgets ended jobs after MinJobAge, 600 s on the dev cluster).
slurm_problems() {
  local complete=0
  [[ ${1:-} == --complete ]] && complete=1
  slurm_drocc_jobs | sort -n >"$T/slurm.jobs"
  db "SELECT id, slurm_job_id FROM jobs WHERE slurm_job_id <> 0 ORDER BY id" >"$T/slurm.recorded" ||
    return 1
  awk '{ n[$1]++; s[$1] = s[$1] " " $2 }
       END { for (i in n) if (n[i] > 1) print "drocc job " i ": Slurm jobs" s[i] }' "$T/slurm.jobs"
  awk 'NR == FNR { known[$1] = $2; next }
       known[$1] != $2 { print "Slurm job " $2 " (drocc:" $1 "): not followed by droccd" }' \
    "$T/slurm.recorded" "$T/slurm.jobs"
  awk -v complete="$complete" 'NR == FNR { slurm[$1] = $2; next }
       !($1 in slurm) { if (complete) print "drocc job " $1 ": recorded Slurm job " $2 \
                                            ", Slurm has no job of this test for it"; next }
       slurm[$1] != $2 { print "drocc job " $1 ": recorded Slurm job " $2 ", Slurm holds " slurm[$1] }' \
    "$T/slurm.jobs" "$T/slurm.recorded"
}

# settlement_problems: a settlement is a job's charges rows written together, with one time
# (the run's end). Prints jobs with more settlements than runs (1 + requeues), jobs that ran a
# second or more without one, rows written twice, charged amounts that are not the sum of the
# job's rows, and ended jobs still holding a reservation.
settlement_problems() {
  db "SELECT 'job ' || j.id || ' (' || j.state || ', ' || j.requeue_count || ' requeues): ' ||
             count(DISTINCT c.time) || ' settlements'
      FROM jobs j LEFT JOIN charges c ON c.job_id = j.id GROUP BY j.id
      HAVING count(DISTINCT c.time) > 1 + j.requeue_count
          OR (count(DISTINCT c.time) = 0 AND j.end_time - j.start_time >= 1000000)
      UNION ALL
      SELECT 'job ' || job_id || ': charges row written ' || count(*) || ' times' FROM charges
      GROUP BY job_id, time, grant_id, resource HAVING count(*) > 1
      UNION ALL
      SELECT * FROM (
        WITH c AS (SELECT job_id, resource, sum(milli) AS milli FROM charges GROUP BY 1, 2),
             j AS (SELECT jobs.id, e.key AS resource, e.value AS milli
                   FROM jobs, json_each(jobs.charged_json) e)
        SELECT 'job ' || j.id || ': charged ' || j.milli || ' ' || j.resource || ', rows sum to ' ||
               coalesce(c.milli, 0)
        FROM j LEFT JOIN c ON c.job_id = j.id AND c.resource = j.resource
        WHERE c.milli IS NOT j.milli
        UNION
        SELECT 'job ' || c.job_id || ': charged ' || coalesce(j.milli, 0) || ' ' || c.resource ||
               ', rows sum to ' || c.milli
        FROM c LEFT JOIN j ON j.id = c.job_id AND j.resource = c.resource
        WHERE j.milli IS NOT c.milli)
      UNION ALL
      SELECT 'job ' || id || ' (' || state || '): still reserves ' || reserved_json FROM jobs
      WHERE state IN (4, 5, 6, 7, 9, 10) AND reserved_json <> '{}'"
}

# balance_problems PROJECT USER: the balance droccd shows USER for PROJECT, per resource, is
# the project's grants minus its charges in the database, with nothing reserved (no job left).
balance_problems() {
  local project=$1 user=$2 balance
  balance=$(as "$user" drocc balance -p "$project" -o json) || return 1
  db "SELECT g.resource, g.milli, coalesce(c.milli, 0) FROM
        (SELECT resource, sum(amount_milli) AS milli FROM grants WHERE project = '$project'
         GROUP BY 1) g
      LEFT JOIN (SELECT resource, sum(milli) AS milli FROM charges WHERE project = '$project'
                 GROUP BY 1) c ON c.resource = g.resource" >"$T/balance.db" || return 1
  jq -r '.[] | "\(.resource) \(.granted_milli) \(.charged_milli) \(.reserved_milli) \(.available_milli)"' \
    <<<"$balance" | awk 'NR == FNR { g[$1] = $2; c[$1] = $3; next }
      $2 != g[$1] || $3 != c[$1] || $4 != 0 || $5 != $2 - $3 - $4 {
        print $1 ": granted " $2 " charged " $3 " reserved " $4 " available " $5 \
          " (database: granted " g[$1] " charged " c[$1] ")" }' "$T/balance.db" -
}
