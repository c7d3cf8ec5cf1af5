#!/usr/bin/env bash
# Bring up a real local Slurm 22.05 cluster on this machine: munged, slurmctld and one slurmd
# per simulated node (n1..nN, all on 127.0.0.1, each with 8 CPUs and 4 fake GPUs).
#
# Writes /etc/slurm/slurm.conf and /etc/slurm/gres.conf (the default paths libslurm reads),
# starts the daemons directly (no systemd) and waits until every node is idle.
# Idempotent: if the cluster already runs with the same configuration, nothing is restarted;
# if the configuration (e.g. the node count) differs, the cluster is stopped and restarted.
#
# Usage: deploy/dev/cluster-up.sh [--nodes N]        (default N=1)
# Env:   DEV_CLUSTER_TIMEOUT  seconds to wait for slurmctld and for the nodes (default 60)
#        DEV_NODE_UTS=0       do not give each slurmd its own hostname (see start_slurmd)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

nodes=1
while (($#)); do
  case $1 in
    --nodes) nodes=${2:-}; shift 2 || die "--nodes needs a value" ;;
    --nodes=*) nodes=${1#--nodes=}; shift ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *) die "unknown argument '$1' (usage: $0 [--nodes N])" ;;
  esac
done
[[ $nodes =~ ^[0-9]{1,2}$ ]] || die "--nodes must be a number from 1 to 99 (got '$nodes')"
nodes=$((10#$nodes)) # "03" -> 3
((nodes >= 1)) || die "--nodes must be a number from 1 to 99 (got '$nodes')"
TIMEOUT=${DEV_CLUSTER_TIMEOUT:-60}

need_root
need_cmd slurmctld slurmd sinfo scontrol munge

SLURM_CONF=$DEV_SLURM_CONF_DIR/slurm.conf
GRES_CONF=$DEV_SLURM_CONF_DIR/gres.conf
NODE_NAMES=()
for ((i = 1; i <= nodes; i++)); do NODE_NAMES+=("n$i"); done
if ((nodes == 1)); then NODELIST=n1; else NODELIST="n[1-$nodes]"; fi

# ---- Configuration ---------------------------------------------------------------------
# RealMemory close to the machine's (MemTotal less 1 GiB), so job scripts asking for --mem
# are not refused; SlurmdParameters=config_overrides lets every simulated node claim it.
mem_total_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
real_memory=$((mem_total_mib - 1024))
((real_memory >= 512)) || die "machine has only ${mem_total_mib} MiB of memory"

render_slurm_conf() {
  cat <<EOF
# Written by deploy/dev/cluster-up.sh --nodes $nodes -- local dev cluster, do not edit by hand
# (the next cluster-up rewrites it). Verified settings: SPEC section 10.
ClusterName=dev
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job waits cred_expire seconds before it may run again (default 120 s); jobs that
# checkpoint and requeue themselves resume sooner with 60.
AuthInfo=cred_expire=60
# No cgroups in these machines: track processes by parent pid, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Let each simulated node claim 8 CPUs and the RealMemory below on a 2-core machine.
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
# Jobs start at submission when resources are free; these shorten the periodic passes that
# pick up queued jobs on a tiny cluster.
SchedulerParameters=sched_interval=10,bf_interval=5
# Refuse at submission a job no partition could ever run (too many nodes, a time limit above
# MaxTime), instead of keeping it pending forever; droccd then shows it REJECTED.
EnforcePartLimits=ALL
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, a job that does not ask for --mem is given the whole node's memory and
# jobs cannot share a node; give each CPU an equal share instead.
DefMemPerCPU=$((real_memory / 8))
# No mail on these machines (silences "Configured MailProg is invalid").
MailProg=/bin/true
MpiDefault=none
GresTypes=gpu
ReturnToService=2
# Finished jobs stay visible to slurm_load_job/squeue for 10 minutes (droccd follows them).
MinJobAge=600
# SIGTERM -> SIGKILL grace at time limit / scancel.
KillWait=5
InactiveLimit=0
StateSaveLocation=$DEV_SLURM_STATE_DIR
SlurmdSpoolDir=$DEV_SLURM_SPOOL_ROOT/%n
# Per-node temp dir; srun --mpi=pmix puts its client dirs here (the default, /tmp, makes the
# PMIx dirs of several slurmd on one machine collide: "spmix_appdir_...: File exists").
TmpFS=$DEV_SLURM_TMP_ROOT/%n
SlurmctldLogFile=$DEV_LOG_DIR/slurmctld.log
SlurmdLogFile=$DEV_LOG_DIR/slurmd-%n.log
SlurmctldPidFile=$DEV_CTLD_PID
SlurmdPidFile=$DEV_RUN_DIR/slurmd-%n.pid
SlurmctldDebug=info
SlurmdDebug=info
EOF
  local i
  for ((i = 1; i <= nodes; i++)); do
    echo "NodeName=n$i NodeAddr=127.0.0.1 Port=$((17000 + i)) CPUs=8 RealMemory=$real_memory Gres=gpu:4 State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=$NODELIST Default=YES MaxTime=INFINITE State=UP"
}

render_gres_conf() {
  echo "# Written by deploy/dev/cluster-up.sh: plain files stand in for GPU devices."
  local n
  for n in "${NODE_NAMES[@]}"; do
    echo "NodeName=$n Name=gpu File=$DEV_GPU_ROOT/$n/gpu[0-3]"
  done
}

want_slurm_conf=$(render_slurm_conf)
want_gres_conf=$(render_gres_conf)
config_same=0
if [[ -r $SLURM_CONF && -r $GRES_CONF &&
  $(<"$SLURM_CONF") == "$want_slurm_conf" && $(<"$GRES_CONF") == "$want_gres_conf" ]]; then
  config_same=1
fi

# ---- Helpers -----------------------------------------------------------------------------
ctld_running() { pid_alive "$DEV_CTLD_PID" slurmctld >/dev/null; }
slurmd_running() { pid_alive "$(slurmd_pidfile "$1")" slurmd >/dev/null; }

# Each slurmd runs in its own UTS namespace whose hostname is the node name, so every job
# process sees gethostname() == n<i>, as on a real cluster. Without it all simulated nodes
# are "vm": OpenMPI then treats ranks on different nodes as node-local, uses shared memory
# (btl/vader) between them with colliding segment names, and crashes (SIGSEGV in
# mca_btl_vader_poll_handle_frag) as soon as messages are large. DEV_NODE_UTS=0 turns it off.
USE_UTS=${DEV_NODE_UTS:-1}
if ((USE_UTS)) && ! unshare --uts true 2>/dev/null; then
  warn "cannot create UTS namespaces here; all nodes share the hostname $(hostname)." \
    "Multi-node MPI jobs then need OMPI_MCA_btl=self,tcp"
  USE_UTS=0
fi

# slurmd_ok NODE: our slurmd for NODE runs (and, with USE_UTS, under the right hostname).
slurmd_ok() {
  local pid
  pid=$(pid_alive "$(slurmd_pidfile "$1")" slurmd) || return 1
  ((USE_UTS)) || return 0
  [[ $(nsenter --uts -t "$pid" hostname 2>/dev/null) == "$1" ]]
}

start_slurmd() {
  local n=$1
  log "starting slurmd -N $n (port $((17000 + ${n#n}))$( ((USE_UTS)) && echo ", hostname $n"))"
  if ((USE_UTS)); then
    # shellcheck disable=SC2016  # $1 is expanded by the inner shell
    unshare --uts -- /bin/sh -c 'hostname "$1" && exec slurmd -N "$1"' slurmd-uts "$n"
  else
    slurmd -N "$n"
  fi
}

# Succeeds when slurmctld answers, and also (to stop waiting early) when it has died.
# (The pid file appears only after slurmctld daemonized, so look for the process by name too.)
ctld_answers() {
  scontrol ping 2>/dev/null | grep -q 'is UP' && return 0
  ctld_running || pgrep -x slurmctld >/dev/null || return 0
  return 1
}

fail_with_logs() {
  local n
  show_log_tail "$DEV_CTLD_LOG" 30
  for n in "${NODE_NAMES[@]}"; do show_log_tail "$(slurmd_logfile "$n")" 15; done
  sinfo -N -l 2>&1 >&2 || true
  die "$*"
}

# Refuse to fight daemons someone else started (another slurm.conf, a package's init).
our_pids() {
  local f
  pid_alive "$DEV_CTLD_PID" slurmctld || true
  for f in "$DEV_RUN_DIR"/slurmd-*.pid; do
    if [[ -e $f ]]; then pid_alive "$f" slurmd || true; fi
  done
  return 0
}
foreign_pids() {
  local ours pid
  ours=" $(our_pids | tr '\n' ' ') "
  for pid in $(pgrep -x 'slurm(ctld|d)' || true); do
    [[ $ours == *" $pid "* ]] || echo "$pid"
  done
}
check_foreign() {
  local pids pid
  pids=$(foreign_pids)
  [[ -n $pids ]] || return 0
  sleep 1 # slurmd forks briefly while launching a step; only a process that stays counts
  for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null && [[ " $(foreign_pids | tr '\n' ' ') " == *" $pid "* ]]; then
      die "a $(cat /proc/"$pid"/comm) not started by cluster-up.sh is running (pid $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline)); stop it first"
    fi
  done
}

# ---- MUNGE ---------------------------------------------------------------------------------
"$HERE/munge-up.sh"

# ---- Stop what runs with a different configuration ---------------------------------------
shopt -s nullglob
if ((config_same)); then
  # Same config: keep everything that runs; stop stale slurmd of nodes no longer configured.
  for f in "$DEV_RUN_DIR"/slurmd-*.pid; do
    n=${f##*/slurmd-}
    n=${n%.pid}
    if [[ " ${NODE_NAMES[*]} " != *" $n "* ]]; then stop_pidfile "$f" slurmd 20; fi
  done
else
  if ctld_running || compgen -G "$DEV_RUN_DIR/slurmd-*.pid" >/dev/null; then
    log "configuration changed (now $nodes node(s)); restarting the cluster"
    "$HERE/cluster-down.sh"
  fi
fi
check_foreign

all_running=1
ctld_running || all_running=0
for n in "${NODE_NAMES[@]}"; do
  if ! slurmd_ok "$n"; then
    all_running=0
    # Running, but started another way (e.g. without its own hostname): restart it.
    if slurmd_running "$n"; then
      log "slurmd for $n runs without its own hostname; restarting it"
      stop_pidfile "$(slurmd_pidfile "$n")" slurmd 20
    fi
  fi
done

# ---- Write configuration and directories ---------------------------------------------------
if ((!config_same)); then
  log "writing $SLURM_CONF and $GRES_CONF ($nodes node(s): $NODELIST, RealMemory=$real_memory MiB)"
  install -d -m 0755 "$DEV_SLURM_CONF_DIR"
  printf '%s\n' "$want_slurm_conf" >"$SLURM_CONF.tmp.$$"
  printf '%s\n' "$want_gres_conf" >"$GRES_CONF.tmp.$$"
  chmod 0644 "$SLURM_CONF.tmp.$$" "$GRES_CONF.tmp.$$"
  mv -f "$SLURM_CONF.tmp.$$" "$SLURM_CONF"
  mv -f "$GRES_CONF.tmp.$$" "$GRES_CONF"
fi
install -d -m 0755 "$DEV_SLURM_STATE_DIR" "$DEV_LOG_DIR" "$DEV_RUN_DIR"
for n in "${NODE_NAMES[@]}"; do
  install -d -m 0755 "$DEV_SLURM_SPOOL_ROOT/$n" "$DEV_GPU_ROOT/$n"
  install -d -m 1777 "$DEV_SLURM_TMP_ROOT/$n"
  for g in 0 1 2 3; do [[ -e $DEV_GPU_ROOT/$n/gpu$g ]] || : >"$DEV_GPU_ROOT/$n/gpu$g"; done
done

# ---- Start daemons -------------------------------------------------------------------------
if ((all_running)); then
  log "slurmctld and $nodes slurmd already running with this configuration"
else
  if ! ctld_running; then
    log "starting slurmctld"
    slurmctld || fail_with_logs "slurmctld failed to start"
  fi
  wait_for "$TIMEOUT" "slurmctld to answer (scontrol ping)" ctld_answers ||
    fail_with_logs "slurmctld does not answer"
  scontrol ping 2>/dev/null | grep -q 'is UP' || fail_with_logs "slurmctld exited during startup"
  for n in "${NODE_NAMES[@]}"; do
    if ! slurmd_running "$n"; then
      start_slurmd "$n" || fail_with_logs "slurmd -N $n failed to start"
    fi
  done
fi

# ---- Wait for the nodes ---------------------------------------------------------------------
# Node states from sinfo, one "name state" per line; a trailing * means "not responding".
node_states() { sinfo -h -N -p debug -o '%N %T' 2>/dev/null | sort -u; }

nodes_ready() {
  local states name state ok=0 want=${#NODE_NAMES[@]}
  states=$(node_states) || return 1
  while read -r name state; do
    [[ -n $name ]] || continue
    case $state in
      *'*') ;; # not responding yet
      down* | drain* | fail*)
        scontrol update nodename="$name" state=resume >/dev/null 2>&1 || true ;;
      idle | mixed | allocated | completing) ok=$((ok + 1)) ;;
    esac
  done <<<"$states"
  ((ok == want))
}

# Every node must answer and be usable: idle after a fresh start; an already running cluster
# (or one that recovered running jobs from its state) may have busy nodes.
if ! wait_for "$TIMEOUT" "all $nodes node(s) up in sinfo" nodes_ready; then
  fail_with_logs "nodes did not become idle within ${TIMEOUT}s: $(node_states | tr '\n' ' ')"
fi
log "cluster up: $(node_states | tr '\n' ' ')"
