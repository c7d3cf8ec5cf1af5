#!/usr/bin/env bash
# Helpers for the end-to-end tests: a private droccd per test (own socket, database and log
# under a temp dir) against the real Slurm cluster, and the drocc binary run as test users.
# Needs root, the dev cluster (deploy/dev/cluster-up.sh) and the users (deploy/dev/users.sh).
# ctest passes the binaries to test in DROCC_BIN, DROCCD_BIN and MPI_HELLO_BIN.
set -euo pipefail

: "${DROCC_BIN:?set DROCC_BIN to the drocc binary under test}"
: "${DROCCD_BIN:?set DROCCD_BIN to the droccd binary under test}"
TEST_NAME=$(basename "$0" .sh)

# Everything the test users touch lives under $T, readable by them (the build tree may not be).
T=$(mktemp -d "/tmp/drocc-e2e-$TEST_NAME.XXXXXX")
chmod 0755 "$T"
mkdir -p "$T/bin"
install -m 0755 "$DROCC_BIN" "$T/bin/drocc"
install -m 0755 "$DROCCD_BIN" "$T/bin/droccd"
[[ -n ${MPI_HELLO_BIN:-} ]] && install -m 0755 "$MPI_HELLO_BIN" "$T/bin/mpi_hello"
for u in alice bob carol dana; do install -d -o "$u" -g "$u" -m 0755 "$T/$u"; done
SOCK=$T/droccd.sock
DROCCD_PID=
SUBMITTED_IDS=()

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2; }

fail() {
  printf '[%s %s] FAIL: %s\n' "$(date +%H:%M:%S)" "$TEST_NAME" "$*" >&2
  if [[ -f $T/droccd.log ]]; then
    printf -- '----- droccd log (last 40 lines) -----\n' >&2
    tail -n 40 "$T/droccd.log" >&2
  fi
  exit 1
}

cleanup() {
  local rc=$?
  if [[ -n $DROCCD_PID ]] && kill -0 "$DROCCD_PID" 2>/dev/null; then
    kill -TERM "$DROCCD_PID" 2>/dev/null || true
    wait "$DROCCD_PID" 2>/dev/null || true
  fi
  # Leave no job of this test in Slurm.
  for jid in $(scontrol show job -o 2>/dev/null | grep -F "WorkDir=$T/" | sed -n 's/^JobId=\([0-9]*\).*/\1/p'); do
    scancel "$jid" 2>/dev/null || true
  done
  if ((rc == 0)); then rm -rf "$T"; else log "kept $T for inspection"; fi
  exit "$rc"
}
trap cleanup EXIT

# start_droccd [EXTRA_TOML_LINES]: writes a config and starts droccd; waits until it answers.
start_droccd() {
  if [[ ! -f $T/droccd.toml ]]; then
    cat >"$T/droccd.toml" <<CONF
[server]
socket = "$SOCK"
socket_mode = "0666"
tcp_listen = "${DROCC_E2E_TCP:-}"
shutdown_grace_s = 5
[store]
path = "$T/droccd.db"
[slurm]
poll_interval_ms = 300
reconcile_interval_s = ${DROCC_E2E_RECONCILE_S:-60}
[auth]
admin_group = "drocc-admins"
[log]
level = "debug"
CONF
    [[ $# -gt 0 ]] && printf '%s\n' "$@" >>"$T/droccd.toml"
  fi
  "$T/bin/droccd" --config "$T/droccd.toml" >>"$T/droccd.log" 2>&1 &
  DROCCD_PID=$!
  local i
  for i in $(seq 1 100); do
    if DROCC_RETRY_SECONDS=0 "$T/bin/drocc" --server "unix:$SOCK" admin status >/dev/null 2>&1; then
      [[ -n ${E2E_NO_DEFAULT_PROJECT:-} ]] || default_project
      return 0
    fi
    kill -0 "$DROCCD_PID" 2>/dev/null || fail "droccd exited at start-up"
    sleep 0.1
  done
  fail "droccd did not answer within 10 s"
}

# as_root_drocc ARGS...: drocc as root (a drocc admin) against our droccd.
as_root_drocc() { "$T/bin/drocc" --server "unix:$SOCK" "$@"; }

# default_project: on a new database, puts every test user in project "e2e" (their default)
# with ample hours, so tests that are not about quotas need not think about them.
default_project() {
  [[ -f $T/.default-project ]] && return 0
  as_root_drocc admin account create e2e --kind internal >/dev/null || fail "cannot create account e2e"
  as_root_drocc admin project create e2e --account e2e >/dev/null || fail "cannot create project e2e"
  local u r
  for u in alice bob carol dana; do
    as_root_drocc admin member add e2e "$u" --default >/dev/null || fail "cannot add $u to e2e"
  done
  for r in gpu-hours cpu-hours node-hours; do
    as_root_drocc admin grant create e2e 1000000 --resource "$r" --reference e2e >/dev/null ||
      fail "cannot grant $r to e2e"
  done
  touch "$T/.default-project"
}

# stop_droccd [SIGNAL]: TERM (default) or KILL.
stop_droccd() {
  local sig=${1:-TERM}
  kill "-$sig" "$DROCCD_PID" 2>/dev/null || true
  wait "$DROCCD_PID" 2>/dev/null || true
  DROCCD_PID=
}

# as USER CMD...: runs CMD as USER in $T/USER, with drocc on PATH pointed at our droccd.
as() {
  local user=$1
  shift
  runuser -u "$user" -- env -C "$T/$user" PATH="$T/bin:/usr/local/bin:/usr/bin:/bin" \
    DROCC_SERVER="unix:$SOCK" MPI_HELLO="$T/bin/mpi_hello" "$@"
}

# write_script USER NAME <<'EOF' ... EOF: a job script owned by USER in $T/USER.
write_script() {
  local user=$1 name=$2
  cat >"$T/$user/$name"
  chown "$user:$user" "$T/$user/$name"
}

# submit USER ARGS...: drocc submit --parsable as USER; prints the drocc job id.
submit() {
  local user=$1 id
  shift
  id=$(as "$user" drocc submit --parsable "$@") || fail "drocc submit $* failed"
  [[ $id =~ ^[0-9]+$ ]] || fail "drocc submit printed '$id', not a job id"
  SUBMITTED_IDS+=("$id")
  printf '%s\n' "$id"
}

# field USER ID KEY: one field of `drocc show ID -o json` (null prints as "null").
field() {
  as "$1" drocc show "$2" -o json | jq -r ".$3"
}

# wait_state USER ID TIMEOUT STATE...: waits until the job is in one of STATEs.
wait_state() {
  local user=$1 id=$2 timeout=$3 state
  shift 3
  local deadline=$((SECONDS + timeout))
  while true; do
    state=$(field "$user" "$id" state)
    for s in "$@"; do [[ $state == "$s" ]] && return 0; done
    ((SECONDS < deadline)) || fail "job $id is $state after ${timeout}s, expected one of: $*"
    sleep 0.5
  done
}

# slurm_record SLURM_ID: Slurm's own one-line record of the job.
slurm_record() { scontrol show job -o "$1"; }

# slurm_drocc_jobs: "DROCC_ID SLURM_ID" for every Slurm job that carries a drocc id and runs in
# this test's directories (every test's droccd numbers its jobs from 1, so the comment alone
# is not unique here). The comment is "drocc:<id>" or "drocc:<id>@<instance>".
slurm_drocc_jobs() {
  scontrol show job -o | grep -F "WorkDir=$T/" |
    sed -nE 's/^JobId=([0-9]+) (.* )?Comment=drocc:([0-9]+)([ @].*)?$/\3 \1/p' || true
}

# slurm_jobs_of ID: how many Slurm jobs carry drocc id ID and run in this test's directories.
slurm_jobs_of() { slurm_drocc_jobs | awk -v id="$1" '$1 == id { n++ } END { print n + 0 }'; }

assert_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"; }
assert_contains() { [[ $1 == *"$2"* ]] || fail "${3:-output} does not contain '$2': $1"; }

pass() { log "PASS"; }
