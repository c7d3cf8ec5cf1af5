#!/usr/bin/env bash
# Soak (issue "Reliability: nothing acknowledged is ever lost, duplicated or charged twice"):
# N minutes of mixed load against a private droccd on the real cluster, droccd restarted every
# S seconds (SIGTERM and SIGKILL in turn). Six client loops (alice, bob and carol, two each)
# pick at random: submit a short job (sleep 1-8 s, 20%), cancel one of their last three (10%),
# list their jobs (20%), watch a recent job for at most 8 s (10%), estimate a job (20%), show a
# recent job (20%), 0-2 s apart. Every 10 s it samples droccd's resident memory (VmRSS).
# At the end, once every job has ended, it prints:
#   - operations per kind: done, refused as expected (cancelling a job that has already ended;
#     the submit rate limit), errors (any other non-zero exit), and the errors themselves;
#   - lost: acknowledged jobs droccd does not have (or not as submitted), and jobs it marked
#     LOST; duplicated: two jobs for one idempotency key or one submission, two Slurm jobs for
#     one drocc job, a Slurm job droccd does not follow; charged twice: more settlements than
#     runs, or charges that do not add up, or a balance that is not grants - charges;
#   - droccd's RSS: each round's (from one restart to the next) after its 10 s warm-up and at
#     its last sample, and the first round against the last.
# Exits 1 when errors, lost, duplicated or charged twice is not 0.
#
# Usage: flock /tmp/drocc-cluster.lock bench/soak.sh [BUILD_DIR] [--minutes N] [--restart-every S]
#   (defaults: BUILD_DIR ./build, 10 minutes, 60 s). DROCC_BIN and DROCCD_BIN, when set, name
#   the binaries instead. Needs root, the dev cluster and its users (deploy/dev/cluster-up.sh,
#   users.sh); the cluster is shared, hence the lock.
#
# Its sibling, the crash storm (SIGKILL at random moments under 16 submitting clients, checked
# the same way; tests/e2e/crash_storm_test.sh, 20 rounds in ctest), runs longer with
# CRASH_STORM_ROUNDS:
#   flock /tmp/drocc-cluster.lock env CRASH_STORM_ROUNDS=100 DROCC_BIN=build/client/cli/drocc \
#     DROCCD_BIN=build/daemon/server/droccd bash tests/e2e/crash_storm_test.sh
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build
MINUTES=10
RESTART_EVERY=60
usage() {
  echo "usage: $0 [BUILD_DIR] [--minutes N] [--restart-every SECONDS]" >&2
  exit 2
}
while (($# > 0)); do
  case $1 in
    --minutes) MINUTES=${2:-} && shift 2 ;;
    --restart-every) RESTART_EVERY=${2:-} && shift 2 ;;
    -*) usage ;;
    *) BUILD=$1 && shift ;;
  esac
done
[[ $MINUTES =~ ^[1-9][0-9]*$ && $RESTART_EVERY =~ ^[1-9][0-9]*$ ]] || usage
if ((RESTART_EVERY < 20)); then
  echo "--restart-every must be at least 20 s (a 10 s warm-up, samples every 10 s)" >&2
  exit 2
fi
export DROCC_BIN=${DROCC_BIN:-$BUILD/client/cli/drocc}
export DROCCD_BIN=${DROCCD_BIN:-$BUILD/daemon/server/droccd}
for b in "$DROCC_BIN" "$DROCCD_BIN"; do
  [[ -x $b ]] || {
    echo "missing $b: build first (deploy/dev/build-install.sh) or set DROCC_BIN, DROCCD_BIN" >&2
    exit 1
  }
done
. "$REPO/tests/e2e/lib.sh"             # a private droccd under $T, users' dirs, cleanup on exit
. "$REPO/tests/e2e/reliability_lib.sh" # the checks at the end
USERS=(alice bob carol)
LOOPS=6
KINDS=(submit cancel jobs watch estimate show)

# classify KIND RC ERRFILE: ok, refused (an answer droccd is expected to give) or error.
classify() {
  local kind=$1 rc=$2 err=$3
  if ((rc == 0)); then
    echo ok
  elif [[ $kind == submit || $kind == estimate ]] && ((rc == 75)); then
    echo refused # the per-user submit rate limit
  elif [[ $kind == cancel ]] && grep -q "has already ended" "$err"; then
    echo refused
  elif [[ $kind == watch ]] && { ((rc == 124)) || [[ ! -s $err ]]; }; then
    echo ok # still running when timeout ended the watch, or the job's own exit code
  else
    echo error
  fi
}

# soak_client N USER: random operations until the soak is over; one "KIND CLASS" line per
# operation in ops.N, "ID NAME USER" per acknowledged submission in acked.N, and each error.
soak_client() {
  trap - EXIT
  local c=$1 user=$2 k=0 r kind id name rc class ids=()
  local err=$T/err.$c
  until load_over; do
    r=$((RANDOM % 100))
    if ((r < 20 || ${#ids[@]} == 0)); then
      kind=submit
    elif ((r < 30)); then kind=cancel
    elif ((r < 50)); then kind='jobs'
    elif ((r < 60)); then kind=watch
    elif ((r < 80)); then kind=estimate
    else kind=show; fi
    if ((${#ids[@]} > 0)); then
      id=${ids[RANDOM % ${#ids[@]}]}
      # Cancel one of the last three: they may still be pending or running.
      [[ $kind != cancel ]] || id=${ids[${#ids[@]} - 1 - RANDOM % (${#ids[@]} < 3 ? ${#ids[@]} : 3)]}
    fi
    rc=0
    case $kind in
      submit)
        k=$((k + 1)) && name=soak-$c-$k
        id=$(as "$user" drocc submit --parsable -t 1 -J "$name" soak.sbatch $((1 + RANDOM % 8)) \
          2>"$err") || rc=$?
        if ((rc == 0)); then
          echo "$id $name $user" >>"$T/acked.$c"
          ids+=("$id")
          ((${#ids[@]} <= 20)) || ids=("${ids[@]:1}") # cancel, watch, show: the last 20
        fi
        ;;
      cancel) as "$user" drocc cancel "$id" >/dev/null 2>"$err" || rc=$? ;;
      jobs) as "$user" drocc jobs -n 20 -o json >/dev/null 2>"$err" || rc=$? ;;
      watch) as "$user" timeout 8 drocc watch "$id" >/dev/null 2>"$err" || rc=$? ;;
      estimate) as "$user" drocc estimate --format json -t 1 soak.sbatch 1 >/dev/null 2>"$err" || rc=$? ;;
      show) as "$user" drocc show "$id" -o json >/dev/null 2>"$err" || rc=$? ;;
    esac
    class=$(classify "$kind" "$rc" "$err")
    echo "$kind $class" >>"$T/ops.$c"
    [[ $class == error ]] &&
      echo "$(date +%T) $kind (exit $rc): $(head -c 300 "$err" | tr '\n' ' ')" >>"$T/errors.$c"
    sleep "$((RANDOM % 2)).$((RANDOM % 10))"
  done
}

ops_so_far() { cat "$T"/ops.* 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DROCCD_PID/status"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "soak: $MINUTES min, droccd restarted every $RESTART_EVERY s (SIGTERM and SIGKILL in turn)," \
  "$LOOPS client loops"
start_droccd
for u in "${USERS[@]}"; do
  write_script "$u" soak.sbatch <<'JOB'
#!/bin/bash
sleep "${1:-1}"
JOB
done
for ((c = 1; c <= LOOPS; c++)); do
  soak_client "$c" "${USERS[c % ${#USERS[@]}]}" &
  CLIENT_PIDS+=($!)
done

# Samples every 10 s ("SECONDS RSS_KB ROUND"); a restart starts the next round.
printf '\n%8s  %9s  %7s  %s\n' time RSS ops round
started=$SECONDS
round=1
signal=TERM
next_sample=0
next_restart=$RESTART_EVERY
while true; do
  elapsed=$((SECONDS - started))
  ((elapsed < MINUTES * 60)) || break
  if ((elapsed >= next_restart)); then
    stop_droccd "$signal"
    start_droccd
    round=$((round + 1))
    printf '%7ds  restart %d (SIG%s) at %s: droccd answering again after %d s\n' "$elapsed" \
      $((round - 1)) "$signal" "$(date +%T)" $((SECONDS - started - elapsed))
    [[ $signal == TERM ]] && signal=KILL || signal=TERM
    next_restart=$((next_restart + RESTART_EVERY))
  fi
  if ((elapsed >= next_sample)); then
    rss=$(rss_kb)
    echo "$elapsed $rss $round" >>"$T/rss"
    printf '%7ds  %6.1f MB  %7d  %d\n' "$elapsed" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
      "$(ops_so_far)" "$round"
    next_sample=$((next_sample + 10))
  fi
  sleep 1
done
stop_load

# Every job ends (they last at most 8 s; the queue drains), then the books are checked.
deadline=$((SECONDS + 300))
while true; do
  left=$(as_root_drocc admin status -o json | jq '.pending_jobs + .jobs_in_slurm') ||
    fail "drocc admin status failed"
  ((left == 0)) && break
  ((SECONDS < deadline)) || fail "$left jobs still pending or in Slurm 300 s after the soak"
  sleep 2
done
cat "$T"/acked.* 2>/dev/null | sort -n >"$T/acked" || true
cat "$T"/errors.* 2>/dev/null | sort >"$T/errors" || true

echo
printf '%-9s %7s %8s %7s\n' operation 'done' refused errors
cat "$T"/ops.* | awk -v kinds="${KINDS[*]}" '
  { n[$1, $2]++; t[$2]++ }
  END {
    k = split(kinds, kind, " ")
    for (i = 1; i <= k; i++)
      printf "%-9s %7d %8d %7d\n", kind[i], n[kind[i], "ok"], n[kind[i], "refused"], n[kind[i], "error"]
    printf "%-9s %7d %8d %7d\n", "total", t["ok"], t["refused"], t["error"]
  }'
errors=$(wc -l <"$T/errors")
if ((errors > 0)); then
  echo
  echo "errors (how many, operation, message):"
  sed -E 's/^[0-9:]+ //; s/\b[0-9]+\b/N/g' "$T/errors" | sort | uniq -c | sort -rn | head -n 20
  echo "at (compare with the restarts above): $(cut -d' ' -f1 "$T/errors" | head -n 30 | xargs)"
fi

acked_problems=$(acknowledged_problems "$T/acked") || fail "cannot list the jobs"
lost_state=$(db "SELECT 'job ' || id || ': LOST (' || reason || ')' FROM jobs WHERE state = 10")
dup=$(duplicate_problems; slurm_problems) || fail "cannot check for duplicates"
charged=$(settlement_problems; balance_problems e2e dana) || fail "cannot check the charges"
nlines() { if [[ -z $1 ]]; then echo 0; else wc -l <<<"$1"; fi; }
lost=$(($(nlines "$acked_problems") + $(nlines "$lost_state")))
duplicated=$(nlines "$dup")
charged_twice=$(nlines "$charged")
echo
echo "jobs: $(wc -l <"$T/acked") acknowledged; $(db "SELECT count(*) FROM jobs") stored:" \
  "$(db "SELECT group_concat(n || ' ' || s, ', ') FROM (SELECT count(*) AS n, CASE state
     WHEN 4 THEN 'COMPLETED' WHEN 5 THEN 'FAILED' WHEN 6 THEN 'CANCELLED' WHEN 7 THEN 'TIMEOUT'
     WHEN 9 THEN 'REJECTED' WHEN 10 THEN 'LOST' ELSE 'state ' || state END AS s
     FROM jobs GROUP BY state)"); $(grep -c "adopting Slurm job" "$T/droccd.log" || true) Slurm" \
  "jobs adopted after a restart"
echo "lost: $lost"
[[ -z $acked_problems$lost_state ]] || printf '  %s\n' "$acked_problems" "$lost_state" | sed '/^  $/d' | head -n 20
echo "duplicated: $duplicated"
[[ -z $dup ]] || sed 's/^/  /' <<<"$dup" | head -n 20
echo "charged twice (or not adding up): $charged_twice"
[[ -z $charged ]] || sed 's/^/  /' <<<"$charged" | head -n 20

# RSS per round: after the warm-up (the round's second sample, 10 s in) and at its last sample.
echo
awk '{ n[$3]++; if (n[$3] == 2) warm[$3] = $2; last[$3] = $2; if ($3 > rounds) rounds = $3 }
  END {
    printf "%5s  %10s  %10s  %8s\n", "round", "warm RSS", "last RSS", "growth"
    for (r = 1; r <= rounds; r++) {
      if (!(r in warm)) continue
      printf "%5d  %7.1f MB  %7.1f MB  %+5.1f MB\n", r, warm[r] / 1024, last[r] / 1024, (last[r] - warm[r]) / 1024
      if (!first) first = r
      final = r
    }
    if (!first) { print "RSS: no round lasted past its warm-up"; exit }
    growth = last[final] - last[first]
    printf "RSS: last sample of round %d %.1f MB, of round %d %.1f MB: %+.1f MB (%+.0f%%); ", \
      first, last[first] / 1024, final, last[final] / 1024, growth / 1024, 100 * growth / last[first]
    print (growth <= 0.10 * last[first] + 2048) ? "no growth (within 10% + 2 MB)" : "GROWS"
  }' "$T/rss"

if ((errors + lost + duplicated + charged_twice > 0)); then
  echo "soak: errors $errors, lost $lost, duplicated $duplicated, charged twice $charged_twice: NOT all 0"
  exit 1
fi
echo "soak: errors 0, lost 0, duplicated 0, charged twice 0"
