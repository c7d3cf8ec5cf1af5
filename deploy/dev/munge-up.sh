#!/usr/bin/env bash
# Start MUNGE (the credential daemon Slurm and droccd authenticate with) without systemd.
# Idempotent: keeps an existing key, does nothing when munged already answers.
# Usage: deploy/dev/munge-up.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd munge unmunge runuser
MUNGED=/usr/sbin/munged
KEY=/etc/munge/munge.key
[[ -x $MUNGED ]] || die "$MUNGED not found; run deploy/dev/install-deps.sh first"
id munge >/dev/null 2>&1 || die "user 'munge' does not exist (is the munge package installed?)"

if munge_ok; then
  log "munged already running and answering; nothing to do"
  exit 0
fi

# Key: created once, never replaced (replacing it would invalidate credentials in flight and
# any other host sharing it).
install -d -o munge -g munge -m 0700 /etc/munge
if [[ ! -s $KEY ]]; then
  log "writing new MUNGE key $KEY (1024 random bytes)"
  (umask 0277 && head -c 1024 /dev/urandom >"$KEY.tmp")
  chown munge:munge "$KEY.tmp"
  chmod 0400 "$KEY.tmp"
  mv -f "$KEY.tmp" "$KEY"
else
  # munged refuses a key that others can read or that munge does not own; repair only that.
  if [[ $(stat -c %U "$KEY") != munge ]] || ((8#$(stat -c %a "$KEY") & 8#077)); then
    log "fixing owner/mode of existing $KEY"
    chown munge:munge "$KEY"
    chmod 0400 "$KEY"
  fi
fi

# Runtime/state/log dirs munged expects (normally made by systemd's RuntimeDirectory=).
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0711 /var/lib/munge
install -d -o munge -g munge -m 0700 /var/log/munge

# A munged whose socket answers nothing (crashed, stale pid) is replaced.
pidfile=/run/munge/munged.pid
if pid=$(pid_alive "$pidfile" munged); then
  warn "munged (pid $pid) runs but does not answer; restarting it"
  stop_pidfile "$pidfile" munged 10
fi

log "starting munged"
if ! runuser -u munge -- "$MUNGED"; then
  show_log_tail /var/log/munge/munged.log
  die "munged failed to start"
fi

if ! wait_for 15 "munge -n | unmunge to succeed" munge_ok; then
  show_log_tail /var/log/munge/munged.log
  die "munged started but credentials cannot be decoded"
fi
log "munged is up (pid $(cat "$pidfile" 2>/dev/null || echo '?'))"
