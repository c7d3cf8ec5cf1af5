#!/usr/bin/env bash
# Stop the dev droccd started by droccd-up.sh (SIGTERM: in-flight calls finish first).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
need_root
stop_pidfile "$DEV_RUN_DIR/droccd.pid" droccd 30
