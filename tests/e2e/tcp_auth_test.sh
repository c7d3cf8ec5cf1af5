#!/usr/bin/env bash
# Acceptance 4 (TCP): runs tcp_auth_test against a droccd listening on loopback TCP.
. "$(dirname "$0")/lib.sh"
: "${TCP_AUTH_TEST_BIN:?}"
port=$((20000 + RANDOM % 20000))
DROCC_E2E_TCP="127.0.0.1:$port" start_droccd
DROCC_TCP_ADDR="127.0.0.1:$port" "$TCP_AUTH_TEST_BIN" || fail "tcp_auth_test failed"
# The CLI over TCP attaches MUNGE credentials itself.
write_script alice ok.sbatch <<'JOB'
#!/bin/bash
echo over tcp
JOB
id=$(runuser -u alice -- env -C "$T/alice" "$T/bin/drocc" --server "127.0.0.1:$port" submit --parsable -t 1 ok.sbatch) ||
  fail "submit over TCP failed"
assert_eq "$(runuser -u alice -- "$T/bin/drocc" --server "127.0.0.1:$port" show "$id" -o json | jq -r .user)" alice "job owner over TCP"
pass
