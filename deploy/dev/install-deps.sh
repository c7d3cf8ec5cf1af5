#!/usr/bin/env bash
# Install every Debian 12 package needed to build drocc and run the local dev cluster.
# Idempotent: when all packages are already installed, apt is not touched at all.
# Usage: deploy/dev/install-deps.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config git clang-format
  # Fortran: the runtime's Fortran module and its test (CMake builds them when it finds one)
  gfortran
  # gRPC / protobuf
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  # libraries used by daemon / client / runtime
  libsqlite3-dev sqlite3 libcli11-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev
  libxxhash-dev libssl-dev
  # Slurm + MUNGE (daemons run locally, libslurm linked by droccd)
  libmunge-dev munge libslurm-dev slurmctld slurmd slurm-client
  # MPI; parallel HDF5 over it (bench/checkpoint_bench compares against it)
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzz targets (tests/fuzz/run.sh): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # tools the scripts and end-to-end tests use (pgrep, ss, JSON)
  procps iproute2 jq
  # bench/staging_bench.sh compares drocc-stage with rsync -a (and cp -r)
  rsync
  # e2e_authz_matrix makes a CA and a certificate for droccd's TLS listener
  openssl
)

need_root

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} packages already installed; nothing to do"
  exit 0
fi

log "missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Slurm/munge postinst scripts try to start services; there is no systemd here, and a
# policy-rc.d that denies starts keeps them from failing or racing our own daemons.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  created_policy=1
fi
cleanup() { if ((created_policy)); then rm -f "$policy"; fi; }
trap cleanup EXIT

# apt-get update only when the package lists are missing or older than a day, or when a
# package is not known to apt at all.
lists_fresh=0
if compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null &&
  [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -1440 -print -quit) ]]; then
  lists_fresh=1
fi
if ((!lists_fresh)) || ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
  log "apt-get update"
  apt-get update -q
fi

log "apt-get install ${#missing[@]} package(s)"
apt-get install -y -q "${missing[@]}"
log "done"
