#!/usr/bin/env bash
# Create the dev/test Unix users and the admin group drocc tests rely on.
#   alice, bob, carol, dana : ordinary users (uid >= 1000, home in /home, bash)
#   drocc-admins            : the admin group of droccd; dana is its member
# Idempotent: existing users and memberships are left as they are.
# Usage: deploy/dev/users.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd useradd groupadd usermod getent

USERS=(alice bob carol dana)
ADMIN_GROUP=drocc-admins
ADMINS=(dana)

changed=0
if ! getent group "$ADMIN_GROUP" >/dev/null; then
  log "creating group $ADMIN_GROUP"
  groupadd "$ADMIN_GROUP"
  changed=1
fi

for u in "${USERS[@]}"; do
  if ! getent passwd "$u" >/dev/null; then
    log "creating user $u"
    # -K UID_MIN=1000 makes the >= 1000 rule explicit even if login.defs was changed.
    useradd -m -s /bin/bash -K UID_MIN=1000 -K GID_MIN=1000 -U "$u"
    changed=1
  fi
  uid=$(id -u "$u")
  ((uid >= 1000)) || warn "user $u exists with uid $uid < 1000 (left unchanged)"
  home=$(getent passwd "$u" | cut -d: -f6)
  if [[ ! -d $home ]]; then
    log "creating missing home $home for $u"
    install -d -o "$u" -g "$(id -gn "$u")" -m 0750 "$home"
    changed=1
  fi
done

for u in "${ADMINS[@]}"; do
  if ! id -nG "$u" | tr ' ' '\n' | grep -qx "$ADMIN_GROUP"; then
    log "adding $u to $ADMIN_GROUP"
    usermod -a -G "$ADMIN_GROUP" "$u"
    changed=1
  fi
done

if ((changed)); then
  log "users ready: ${USERS[*]} (admins in $ADMIN_GROUP: ${ADMINS[*]})"
else
  log "users and group already present; nothing to do"
fi
