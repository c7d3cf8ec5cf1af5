#!/usr/bin/env bash
# MPI test of job control (jobctl_mpi.cc): one rank gets SIGUSR1 and every rank agrees to stop
# at the same step (JobControl::AgreeStop), then all return the same requeue status.
#
#   jobctl_mpi_test.sh BIN NP    on NP ranks: (1) the last rank raises SIGUSR1 at step 5: all
#                                stop at step 5; (2) SIGUSR1 is sent from outside, with kill, to
#                                the process of rank 1 only: all stop at one same step
set -euo pipefail
BIN=$1
NP=$2
# As root (CI) OpenMPI wants both flags; more ranks than cores needs oversubscription.
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
T=$(mktemp -d "${TMPDIR:-/tmp}/drocc-jobctl-mpi.XXXXXX")
trap 'rm -rf "$T"' EXIT
# Neither droccd nor Slurm: requeue must fail alike on every rank, and must not requeue the
# job this test may itself be running in.
unset DROCC_JOB_TOKEN DROCC_JOB_ID DROCC_SERVER DROCC_CHECKPOINT_SIGNAL SLURM_JOB_ID

last=$((NP - 1))
out=$("${MPIRUN[@]}" -n "$NP" "$BIN" raise "$last" 5)
echo "$out"
grep -q "^ok: all $NP ranks stopped at step 5; only rank $last got SIGUSR1" <<<"$out" ||
  { echo "FAIL: raise mode" >&2; exit 1; }

"${MPIRUN[@]}" -n "$NP" "$BIN" kill 1 "$T" >"$T/out" 2>&1 &
mpirun_pid=$!
for _ in $(seq 200); do  # up to 20 s for rank 1 to install its handler
  [[ -s $T/pid.1 ]] && break
  sleep 0.1
done
[[ -s $T/pid.1 ]] || { kill "$mpirun_pid"; cat "$T/out"; echo "FAIL: rank 1 never started" >&2; exit 1; }
sleep 0.3  # let the ranks step a while
kill -USR1 "$(cat "$T/pid.1")"
rc=0
wait "$mpirun_pid" || rc=$?
cat "$T/out"
((rc == 0)) || { echo "FAIL: mpirun exited $rc" >&2; exit 1; }
grep -Eq "^ok: all $NP ranks stopped at step [0-9]+; only rank 1 got SIGUSR1" "$T/out" ||
  { echo "FAIL: kill mode" >&2; exit 1; }
grep -q "this job cannot be requeued" "$T/out" || { echo "FAIL: no requeue message" >&2; exit 1; }
echo "ok: $NP ranks agreed to stop"
