#!/usr/bin/env bash
# Issue 7, acceptance 4: attacks tried as a user would, each refused with a clear error and no
# effect (jobs counted in the store before and after), or run harmlessly as the caller:
# --uid/--gid (flag and #SBATCH line), submitting as root, a raw request naming another user;
# shell metacharacters in a job name, arguments and a script's file name (the job runs with
# them unchanged and no injected command runs); `drocc logs` through a symlink to /etc/shadow;
# ".." paths (the CLI normalizes, droccd refuses raw ones); oversized fields; a 100 MB request;
# 10,000 submits in a burst against a limit of 50/s, burst 100. Raw requests come from
# attack_client (a C++ client run as alice).
. "$(dirname "$0")/lib.sh"
: "${ATTACK_CLIENT_BIN:?set ATTACK_CLIENT_BIN to the attack_client binary}"
install -m 0755 "$ATTACK_CLIENT_BIN" "$T/bin/attack_client"
start_droccd "[limits]" "submit_rate_per_s = 50" "submit_burst = 100"

jobs_in_store() { sqlite3 "file:$T/droccd.db?mode=ro" 'SELECT count(*) FROM jobs'; }
attack_client() {  # attack_client TEST_NAME: one test of attack_client, as alice
  as alice env DROCC_SOCKET="$SOCK" ATTACK_DIR="$T/alice" ATTACK_OTHER_USER=bob \
    ATTACK_OTHER_UID="$(id -u bob)" attack_client --gtest_filter="AttackTest.$1" ||
    fail "attack_client $1 failed"
}
# refused WHAT RC TEXT CMD...: CMD exits with RC, prints one line containing TEXT on stderr,
# and the store holds as many jobs as before.
refused() {
  local what=$1 want_rc=$2 text=$3 out rc=0 before
  shift 3
  before=$(jobs_in_store)
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  ((rc == want_rc)) || fail "$what: exit code $rc, expected $want_rc ($out)"
  [[ $(wc -l <<<"$out") == 1 ]] || fail "$what: expected one line on stderr, got: $out"
  assert_contains "$out" "$text" "$what"
  assert_eq "$(jobs_in_store)" "$before" "$what: jobs in the store"
  log "refused: $what: $out"
}

write_script alice hello.sbatch <<'JOB'
#!/bin/bash
echo hello
JOB
bob_uid=$(id -u bob)
same_user="drocc always runs jobs as the submitting user"

# --- Submitting as someone else ---
refused "--uid=0" 2 "$same_user" as alice drocc submit --uid=0 hello.sbatch
refused "--uid=bob's uid" 2 "$same_user" as alice drocc submit --uid="$bob_uid" hello.sbatch
refused "--uid bob" 2 "$same_user" as alice drocc submit --uid bob hello.sbatch
refused "--gid=0" 2 "$same_user" as alice drocc submit -t 1 --gid=0 hello.sbatch
write_script alice uid.sbatch <<JOB
#!/bin/bash
#SBATCH -t 1
#SBATCH --uid=$bob_uid
echo hello
JOB
refused "#SBATCH --uid" 2 "in script line 3: sbatch option --uid" as alice drocc submit uid.sbatch
refused "submit as root" 1 "does not run jobs as root" \
  env -C "$T/alice" "$T/bin/drocc" --server "unix:$SOCK" submit -t 1 hello.sbatch
attack_client RequestNamingAnotherUserRunsAsTheCaller
id=$(cat "$T/alice/other-user.id")
wait_state alice "$id" 120 COMPLETED
assert_eq "$(field alice "$id" user)" alice "owner of the job naming bob"
assert_eq "$(cat "$T/alice/other-user.out")" "ran as alice uid $(id -u alice) USER=bob" \
  "what the job naming bob ran as"
assert_contains "$(slurm_record "$(field alice "$id" slurm_job_id)")" "UserId=alice(" "Slurm's record"

# --- Shell metacharacters: data, never code ---
M=$(mktemp -d /tmp/drocc-marker.XXXXXX)  # short: the job name has room for six markers
chmod 0777 "$M"
tmpl='x; touch @/1 $(touch @/2) `touch @/3` | touch @/4 && touch @/5 "q" '"'"'q'"'"' >@/6'
name=${tmpl//@/$M}
args=('$(touch @/a1)' '`touch @/a2`' '; touch @/a3' $'two\nlines; touch @/a4' '| touch @/a5' \
  "'sq' \"dq\" \\ *")
args=("${args[@]//@/$M}")
write_script alice echo-args.sbatch <<'JOB'
#!/bin/bash
printf 'arg:%s\n' "$@"
printf 'name:%s\n' "$SLURM_JOB_NAME"
JOB
id=$(submit alice -t 1 -J "$name" echo-args.sbatch "${args[@]}")
wait_state alice "$id" 120 COMPLETED
assert_eq "$(field alice "$id" name)" "$name" "job name in drocc"
assert_contains "$(slurm_record "$(field alice "$id" slurm_job_id)")" "JobName=$name" "job name in Slurm"
assert_eq "$(as alice drocc logs "$id")" "$(printf 'arg:%s\n' "${args[@]}"; printf 'name:%s' "$name")" \
  "the arguments and name the job saw"
# A script whose file name is a command line; the job name defaults to it.
weird='job;touch m7;$(touch m8)|touch m9`touch m10`.sh'
cp "$T/alice/echo-args.sbatch" "$T/alice/$weird" && chown alice:alice "$T/alice/$weird"
id=$(submit alice -t 1 "$weird")
wait_state alice "$id" 120 COMPLETED
assert_eq "$(field alice "$id" name)" "$weird" "job name from the script's file name"
assert_eq "$(field alice "$id" script_path)" "$T/alice/$weird" "script path"
leftovers=$(ls -A "$M"; for d in "$T/alice" / "$PWD"; do ls -d "$d"/m{7,8,9,10} 2>/dev/null || true; done)
[[ -z $leftovers ]] || fail "an injected command ran: $leftovers"
rm -rf "$M"

# --- drocc logs through a symlink to /etc/shadow ---
ln -s /etc/shadow "$T/alice/shadow.out"
chown -h alice:alice "$T/alice/shadow.out"
id=$(submit alice -t 1 -o "$T/alice/shadow.out" hello.sbatch)
wait_state alice "$id" 120 COMPLETED FAILED CANCELLED
out=$(as alice drocc logs "$id" 2>&1) && fail "drocc logs through a symlink succeeded: $out"
[[ $(wc -l <<<"$out") == 1 ]] || fail "logs through a symlink: expected one line, got: $out"
assert_contains "$out" "symbolic link" "logs through a symlink"
[[ $out != *root:* ]] || fail "/etc/shadow leaked"

# --- ".." paths: the CLI normalizes them, droccd refuses raw ones ---
install -d -o alice -g alice "$T/alice/sub"
id=$(submit alice -t 1 -D sub -o ../dotdot-%j.out hello.sbatch)
wait_state alice "$id" 120 COMPLETED
sid=$(field alice "$id" slurm_job_id)
assert_eq "$(field alice "$id" stdout_path)" "$T/alice/dotdot-$sid.out" "normalized output path"
assert_eq "$(cat "$T/alice/dotdot-$sid.out")" hello "output written where -o said"
before=$(jobs_in_store)
attack_client DotDotPathsAreRefusedAndStoreNothing
attack_client OversizedFieldsAreRefusedNamingTheField
assert_eq "$(jobs_in_store)" "$before" "jobs in the store after raw '..' and oversized requests"

# --- A 100 MB request ---
rss() { awk '/^VmRSS:/{print $2}' "/proc/$DROCCD_PID/status"; }
rss_before=$(rss)
attack_client HundredMegabyteRequestIsResourceExhausted
# gRPC buffers the whole request before refusing it; droccd gives the memory back within
# seconds (daemon/server/memory_trimmer.h). Kept: less than the request's size (gRPC's own
# caches may grow a little; the bound says the 100 MB are not held).
hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$DROCCD_PID/status")
for _ in $(seq 1 30); do
  rss_after=$(rss)
  ((rss_after < rss_before + 64 * 1024)) && break
  sleep 0.5
done
log "droccd VmRSS around the 100 MB request: $((rss_before / 1024)) MB -> $((rss_after / 1024)) MB (peak $((hwm / 1024)) MB)"
((rss_after < rss_before + 64 * 1024)) || fail "droccd kept $(((rss_after - rss_before) / 1024)) MB after a 100 MB request"
assert_eq "$(jobs_in_store)" "$before" "jobs in the store after the 100 MB request"

# --- 10,000 submits in a burst (admission drained: nothing reaches Slurm) ---
as dana drocc admin drain --reason "attack test burst" >/dev/null
before=$(jobs_in_store)
start=$SECONDS
out=$(attack_client BurstOfTenThousandSubmitsIsRateLimited)
printf '%s\n' "$out" | grep '^burst:' >&2
accepted=$(sed -n 's/^burst: .* s: \([0-9]*\) accepted.*/\1/p' <<<"$out")
[[ -n $accepted ]] || fail "attack_client printed no burst summary: $out"
((SECONDS - start < 60)) || fail "the burst took $((SECONDS - start)) s"
assert_eq "$(jobs_in_store)" "$((before + accepted))" "jobs in the store after the burst"
as alice drocc jobs -n 5 >/dev/null || fail "droccd does not answer after the burst"
kill -0 "$DROCCD_PID" || fail "droccd died"

# What a person sees over the limit: restart with 1/s, burst 1, so two quick submits meet it.
stop_droccd
sed -i 's/^submit_rate_per_s = .*/submit_rate_per_s = 1/; s/^submit_burst = .*/submit_burst = 1/' "$T/droccd.toml"
start_droccd
submit alice -t 1 hello.sbatch >/dev/null
refused "a second submit within a second" 75 "submit rate limit for alice: 1/s, burst 1; retry in " \
  as alice drocc submit -t 1 hello.sbatch
sleep 1.1
submit alice -t 1 hello.sbatch >/dev/null
pass
