#!/usr/bin/env bash
# Start droccd for the local dev cluster: writes /etc/drocc/droccd.toml (if absent), creates
# the state directory and starts the installed droccd in the background, then waits until it
# answers on its socket. Idempotent: a running droccd is left alone.
#
# Usage: deploy/dev/droccd-up.sh
# Env:   DROCCD_BIN (default: droccd on PATH, i.e. /usr/local/sbin/droccd)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
need_root

DROCCD_BIN=${DROCCD_BIN:-$(command -v droccd || echo /usr/local/sbin/droccd)}
[[ -x $DROCCD_BIN ]] || die "droccd not found at $DROCCD_BIN; run deploy/dev/build-install.sh first"
CONF=/etc/drocc/droccd.toml
PIDFILE=$DEV_RUN_DIR/droccd.pid
LOGFILE=$DEV_LOG_DIR/droccd.log
SOCKET=/run/drocc/droccd.sock

mkdir -p /etc/drocc /var/lib/drocc /run/drocc "$DEV_RUN_DIR" "$DEV_LOG_DIR"
chmod 0755 /run/drocc
if [[ ! -f $CONF ]]; then
  log "writing $CONF"
  cat >"$CONF" <<CONFEOF
# droccd for the local dev cluster (written by deploy/dev/droccd-up.sh).
# Every key is documented in deploy/droccd.example.toml.
[server]
socket = "$SOCKET"
socket_mode = "0666"
tcp_listen = "127.0.0.1:7890"

[store]
path = "/var/lib/drocc/droccd.db"

[admission]
max_jobs_in_slurm = 64

[slurm]
poll_interval_ms = 500

[auth]
admin_group = "drocc-admins"

[log]
level = "info"
CONFEOF
fi
"$DROCCD_BIN" --config "$CONF" --check-config >/dev/null || die "invalid $CONF"

if pid=$(pid_alive "$PIDFILE" droccd); then
  log "droccd already running (pid $pid)"
  exit 0
fi
log "starting droccd ($DROCCD_BIN), log in $LOGFILE"
setsid "$DROCCD_BIN" --config "$CONF" >>"$LOGFILE" 2>&1 </dev/null &
echo $! >"$PIDFILE"
if ! wait_for 30 "droccd to answer on $SOCKET" env DROCC_RETRY_SECONDS=0 drocc --server "unix:$SOCKET" admin status; then
  show_log_tail "$LOGFILE"
  die "droccd did not start"
fi
log "droccd is up (pid $(cat "$PIDFILE")): socket $SOCKET, TCP 127.0.0.1:7890 (MUNGE)"
