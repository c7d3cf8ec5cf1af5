#!/usr/bin/env bash
# Stop the local dev Slurm cluster started by cluster-up.sh: every slurmd, then slurmctld.
# Only processes recorded in our pid files (/run/drocc-dev) are stopped. MUNGE keeps running
# (droccd and other tools need it) unless --all is given.
# Slurm state (/var/lib/drocc-dev/slurm/state) is kept; jobs still running in slurmstepd are
# not killed by stopping slurmd and are picked up again by the next cluster-up.
# Usage: deploy/dev/cluster-down.sh [--all]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

all=0
for arg in "$@"; do
  case $arg in
    --all) all=1 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *) die "unknown argument '$arg' (usage: $0 [--all])" ;;
  esac
done
need_root

shopt -s nullglob
stopped=0
# All slurmd in parallel (each takes ~2 s to shut down), then slurmctld.
for pidfile in "$DEV_RUN_DIR"/slurmd-*.pid; do
  if pid_alive "$pidfile" slurmd >/dev/null; then stopped=1; fi
  stop_pidfile "$pidfile" slurmd 20 &
done
wait
if pid_alive "$DEV_CTLD_PID" slurmctld >/dev/null; then stopped=1; fi
stop_pidfile "$DEV_CTLD_PID" slurmctld 20

if ((all)); then
  if pid_alive /run/munge/munged.pid munged >/dev/null; then stopped=1; fi
  stop_pidfile /run/munge/munged.pid munged 10
fi

# Daemons we did not start (no pid file of ours) are reported, never killed.
for name in slurmd slurmctld; do
  if others=$(pgrep -x "$name"); then
    warn "$name still running, not started by cluster-up.sh (pids: $(tr '\n' ' ' <<<"$others")); left alone"
  fi
done

if ((stopped)); then log "cluster stopped"; else log "nothing was running"; fi
