#!/usr/bin/env bash
# shellcheck disable=SC2034  # the DEV_* paths are used by the scripts that source this file
# Shared helpers for the local dev-cluster scripts in deploy/dev/.
# Source it:  . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Safe to source twice; it only defines variables and functions (and sets -euo pipefail).
set -euo pipefail

# ---- Paths shared by every script (one place to change them) ----------------------------
DEV_SLURM_CONF_DIR=${DEV_SLURM_CONF_DIR:-/etc/slurm}      # libslurm reads /etc/slurm/slurm.conf
DEV_STATE_ROOT=${DEV_STATE_ROOT:-/var/lib/drocc-dev}
DEV_LOG_DIR=${DEV_LOG_DIR:-/var/log/drocc-dev}
DEV_RUN_DIR=${DEV_RUN_DIR:-/run/drocc-dev}
DEV_SLURM_STATE_DIR=$DEV_STATE_ROOT/slurm/state
DEV_SLURM_SPOOL_ROOT=$DEV_STATE_ROOT/slurm/spool
DEV_SLURM_TMP_ROOT=$DEV_STATE_ROOT/slurm/tmp
DEV_GPU_ROOT=$DEV_STATE_ROOT/gpu
DEV_CTLD_PID=$DEV_RUN_DIR/slurmctld.pid
DEV_CTLD_LOG=$DEV_LOG_DIR/slurmctld.log

# slurmd pid / log file for node name $1 (matches SlurmdPidFile/SlurmdLogFile with %n).
slurmd_pidfile() { printf '%s/slurmd-%s.pid\n' "$DEV_RUN_DIR" "$1"; }
slurmd_logfile() { printf '%s/slurmd-%s.log\n' "$DEV_LOG_DIR" "$1"; }

# ---- Messages ---------------------------------------------------------------------------
_DEV_SCRIPT=$(basename "${0:-drocc-dev}")
log()  { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$_DEV_SCRIPT" "$*" >&2; }
warn() { printf '[%s %s] WARNING: %s\n' "$(date +%H:%M:%S)" "$_DEV_SCRIPT" "$*" >&2; }
die()  { printf '[%s %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$_DEV_SCRIPT" "$*" >&2; exit 1; }

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (try: sudo $0 ...)"
}

need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' not found; run deploy/dev/install-deps.sh first"
  done
}

# wait_for TIMEOUT_SECONDS DESCRIPTION CMD [ARGS...]
# Runs CMD (quietly) every 0.5 s until it succeeds or TIMEOUT_SECONDS pass.
# Returns 0 on success, 1 on timeout (after logging what it was waiting for).
wait_for() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  while true; do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      warn "timed out after ${timeout}s waiting for: $what"
      return 1
    fi
    sleep 0.5
  done
}

# ---- Processes ---------------------------------------------------------------------------
# pid_alive PIDFILE [EXPECTED_COMM]: the pid in PIDFILE is a live process (whose command name
# is EXPECTED_COMM, if given; guards against a recycled pid). Prints the pid on success.
pid_alive() {
  local pidfile=$1 comm=${2:-} pid
  [[ -r $pidfile ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n $pid ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -n $comm ]]; then
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm" ]] || return 1
  fi
  printf '%s\n' "$pid"
}

# stop_pidfile PIDFILE COMM [TIMEOUT]: SIGTERM the process named by PIDFILE, wait for it to
# exit (SIGKILL after TIMEOUT seconds, default 15), and remove the pid file.
stop_pidfile() {
  local pidfile=$1 comm=$2 timeout=${3:-15} pid
  if pid=$(pid_alive "$pidfile" "$comm"); then
    log "stopping $comm (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for "$timeout" "$comm (pid $pid) to exit" bash -c "! kill -0 $pid"; then
      warn "$comm (pid $pid) ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_for 5 "$comm (pid $pid) to die" bash -c "! kill -0 $pid" || true
    fi
  fi
  rm -f "$pidfile"
}

# show_log_tail FILE [LINES]: print the end of a log file to stderr (for failure reports).
show_log_tail() {
  local f=$1 n=${2:-40}
  if [[ -r $f ]]; then
    printf '\n----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf -- '----- end of %s -----\n\n' "$f" >&2
  else
    printf '(no log file %s)\n' "$f" >&2
  fi
}

# munge_ok: a credential can be created and decoded with the running munged.
munge_ok() {
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}

# repo_root: absolute path of the repository (deploy/dev/.. /..).
repo_root() {
  (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
}
