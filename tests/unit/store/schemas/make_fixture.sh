#!/usr/bin/env bash
# Writes vVERSION.sql beside this script: a job database exactly as the droccd of COMMIT left
# it, dumped by the sqlite3 shell. The schema comes from COMMIT's migrations and the rows from
# COMMIT's own store code (make_fixture.cc, built against COMMIT's source). Needs the build
# dependencies of that tree, git and sqlite3; takes about a minute.
#
#   tests/unit/store/schemas/make_fixture.sh VERSION COMMIT
#
# COMMIT is the last commit before the one that added migration VERSION+1. The fixtures of
# this tree were made with: 1 ce7080c (the first droccd, which migrated straight to 2: version
# 1 never shipped alone), 2 184db4a, 3 d6080bc, 4 484527b, 5 d73f0a1.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  sed -n '2,11p' "$0" >&2
  exit 2
fi
version=$1
commit=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
work=$(mktemp -d /tmp/drocc-fixture.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir "$work/src"
git -C "$repo" archive "$commit" | tar -x -C "$work/src"
known=$(sed -n 's/.*kSchemaVersion = \([0-9]*\);.*/\1/p' "$work/src/daemon/store/migrations.h")
if [[ $version -gt $known ]]; then
  echo "make_fixture.sh: $commit knows schema versions up to $known, not $version" >&2
  exit 1
fi
cat >>"$work/src/CMakeLists.txt" <<EOF
add_executable(make_fixture $here/make_fixture.cc)
target_compile_definitions(make_fixture PRIVATE DROCC_SCHEMA=$version)
target_link_libraries(make_fixture PRIVATE drocc_store)
EOF
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DDROCC_BUILD_TESTS=OFF \
  -DDROCC_BUILD_BENCH=OFF >"$work/cmake.log"
make -C "$work/build" -j2 make_fixture >"$work/make.log"
"$work/build/make_fixture" "$work/droccd.db"

got=$(sqlite3 "$work/droccd.db" 'PRAGMA user_version')
if [[ $got -ne $version ]]; then
  echo "make_fixture.sh: the database is at version $got, not $version" >&2
  exit 1
fi
{
  echo "-- A job database as the droccd of $commit left it at schema version $version."
  echo "-- Written by tests/unit/store/schemas/make_fixture.sh; do not edit."
  sqlite3 "$work/droccd.db" .dump
  # .dump leaves out the version, which SqliteStore reads to know what to migrate.
  echo "PRAGMA user_version = $version;"
} >"$here/v$version.sql"
echo "wrote $here/v$version.sql"
