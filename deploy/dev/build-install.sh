#!/usr/bin/env bash
# Configure, build and install drocc from this checkout.
#   cmake -S <repo> -B <BUILD_DIR> -DCMAKE_BUILD_TYPE=RelWithDebInfo $DROCC_CMAKE_ARGS
#   cmake --build <BUILD_DIR> -j$DROCC_JOBS
#   cmake --install <BUILD_DIR>            (prefix /usr/local: drocc, droccd end up on PATH)
# Idempotent: a second run only rebuilds what changed and reinstalls.
#
# Usage: deploy/dev/build-install.sh [BUILD_DIR]      (default: <repo>/build)
# Env:   DROCC_CMAKE_ARGS   extra configure arguments, word-split (e.g. "-DDROCC_SANITIZE=ON")
#        DROCC_JOBS         parallel build jobs (default 2: these machines have 2 cores)
#        DROCC_NO_INSTALL=1 build only
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

ROOT=$(repo_root)
BUILD_DIR=${1:-$ROOT/build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
JOBS=${DROCC_JOBS:-2}
need_cmd cmake

# shellcheck disable=SC2206  # word-splitting the user's extra arguments is the point
extra_args=(${DROCC_CMAKE_ARGS:-})

log "configuring $ROOT -> $BUILD_DIR ${extra_args[*]:+(extra: ${extra_args[*]})}"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${extra_args[@]}"

log "building with -j$JOBS"
cmake --build "$BUILD_DIR" -j"$JOBS"

if [[ ${DROCC_NO_INSTALL:-0} == 1 ]]; then
  log "DROCC_NO_INSTALL=1: not installing"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
  [[ -w ${prefix:-/usr/local} ]] || die "cannot write to ${prefix:-/usr/local}: run as root, or set DROCC_NO_INSTALL=1"
fi
log "installing"
cmake --install "$BUILD_DIR"
for bin in drocc droccd; do
  if p=$(command -v "$bin"); then log "installed: $p"; fi
done
