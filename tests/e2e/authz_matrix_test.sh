#!/usr/bin/env bash
# Issue 7, acceptance 1-3: the authorization matrix (every role x every RPC, exact status
# codes, authz_matrix.cc holds the table) against a real droccd with its Unix socket, a MUNGE
# TCP listener and a TLS listener; then the TLS listener's token checks (valid, absent, wrong,
# expired, revoked, plain text) and that no token secret is in droccd's log or database.
. "$(dirname "$0")/lib.sh"
: "${AUTHZ_MATRIX_BIN:?set AUTHZ_MATRIX_BIN to the authz_matrix binary}"
install -m 0755 "$AUTHZ_MATRIX_BIN" "$T/bin/authz_matrix"

# A CA and a server certificate for localhost, made for this test.
mkdir -p "$T/tls"
(
  cd "$T/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 \
    -subj "/CN=drocc e2e CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" \
    2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
    -days 1 -extfile ext.cnf 2>/dev/null
  chmod 0644 ca.pem
) || fail "cannot make the test certificates with openssl"

tcp_port=$((20000 + RANDOM % 10000))
tls_port=$((tcp_port + 10000))
E2E_NO_DEFAULT_PROJECT=1 DROCC_E2E_TCP="127.0.0.1:$tcp_port" start_droccd \
  "[tls]" "listen = \"127.0.0.1:$tls_port\"" "cert = \"$T/tls/server.pem\"" \
  "key = \"$T/tls/server.key\""

# ---- the fixture: alice a member and carol a manager of pa, bob a member of pb ----
admin() { as_root_drocc admin "$@" >/dev/null || fail "drocc admin $* failed"; }
admin account create acct --kind internal
for p in pa pb; do
  admin project create "$p" --account acct
  for r in gpu-hours cpu-hours node-hours; do admin grant create "$p" 1000 --resource "$r"; done
done
admin member add pa alice --default
admin member add pa carol --role manager --default
admin member add pb bob --default

write_script alice running.sbatch <<'JOB'
#!/bin/bash
printf '%s\n' "$DROCC_JOB_TOKEN" >job.token
sleep 300
JOB
write_script alice done.sbatch <<'JOB'
#!/bin/bash
echo finished
JOB
cp "$T/alice/running.sbatch" "$T/bob/sleep.sbatch" && chown bob:bob "$T/bob/sleep.sbatch"
job_a=$(submit alice -t 5 running.sbatch)
job_e=$(submit alice -t 1 done.sbatch)
job_b=$(submit bob -t 5 sleep.sbatch)
wait_state alice "$job_a" 60 RUNNING
wait_state alice "$job_e" 60 COMPLETED
for _ in $(seq 1 100); do [[ -s $T/alice/job.token ]] && break; sleep 0.1; done
[[ -s $T/alice/job.token ]] || fail "job $job_a did not write its token"
install -m 0600 "$T/alice/job.token" "$T/job.token"

# Service tokens of alice in pa: one for the matrix, one to revoke, one that expires at once.
token() { as_root_drocc admin token create --user alice --project pa -o json "$@" | jq -r .secret; }
token -d matrix >"$T/svc.tok"
token -d revoked >"$T/revoked.tok"
token -d expired --expires "$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)" >"$T/expired.tok"
chmod 0600 "$T"/*.tok
revoked_id=$(cut -d_ -f2 "$T/revoked.tok")
admin token revoke "$revoked_id"
svc=$(cat "$T/svc.tok")  # the same id with another last digit of the secret
if [[ ${svc: -1} == 0 ]]; then wrong=${svc%?}1; else wrong=${svc%?}0; fi
printf '%s\n' "$wrong" >"$T/wrong.tok"

jq -n --arg socket "$SOCK" --arg tcp "127.0.0.1:$tcp_port" --arg tls "localhost:$tls_port" \
  --arg ca "$T/tls/ca.pem" --arg svc "$T/svc.tok" --arg job "$T/job.token" \
  --arg a "$job_a" --arg b "$job_b" --arg e "$job_e" \
  '{socket: $socket, tcp: $tcp, tls: $tls, ca: $ca, service_token_file: $svc,
    job_token_file: $job, job_a: $a, job_b: $b, job_e: $e, project_a: "pa", project_b: "pb"}' \
  >"$T/fixture.json"
chmod 0644 "$T/fixture.json"

# ---- acceptance 1 and 3: the matrix, each role with its own identity ----
failed=0
run_role() {  # run_role ROLE [USER]
  local role=$1 user=${2:-}
  local cmd=("$T/bin/authz_matrix" --fixture "$T/fixture.json" --role "$role")
  if [[ -n $user ]]; then cmd=(runuser -u "$user" -- "${cmd[@]}"); fi
  if ! "${cmd[@]}" >"$T/matrix-$role.txt" 2>&1; then
    failed=1
    log "role $role: mismatches"
    grep -v '^ok ' "$T/matrix-$role.txt" >&2 || true
  fi
}
run_role anonymous
run_role other bob
run_role member alice
run_role manager carol
run_role admin dana
run_role job
run_role service
((failed == 0)) || fail "the authorization matrix does not hold (rows above)"
log "matrix: $(cat "$T"/matrix-*.txt | grep -c '^ok ') calls as 7 roles, every code as the table says"

# ---- acceptance 2: the TLS listener's tokens ----
probe() { "$T/bin/authz_matrix" --fixture "$T/fixture.json" --tls-probe "$1"; }
sleep 3  # the short-lived token is past its expiry
out=$(probe "$T/svc.tok")
assert_eq "${out%% *}" OK "a valid token"
for case in none "$T/wrong.tok" "$T/expired.tok" "$T/revoked.tok"; do
  out=$(probe "$case")
  [[ ${out%% *} == UA ]] || fail "token case $case: expected UNAUTHENTICATED, got: $out"
done
assert_contains "$(probe "$T/expired.tok")" "expired" "the expired token's error"
assert_contains "$(probe "$T/revoked.tok")" "revoked" "the revoked token's error"
assert_contains "$(probe "$T/wrong.tok")" "wrong secret" "the wrong token's error"
out=$(probe plaintext)
[[ ${out%% *} == UV ]] || fail "a plain-text client on the TLS port was not refused: $out"

# The CLI over TLS: the token file must be private, then it works and acts as alice in pa.
chmod 0644 "$T/svc.tok"
out=$(DROCC_CA_CERT="$T/tls/ca.pem" "$T/bin/drocc" --server "https://localhost:$tls_port" \
  --token-file "$T/svc.tok" jobs 2>&1) && fail "a token file readable by others was used"
assert_contains "$out" "chmod 600" "the CLI's refusal of a readable token file"
chmod 0600 "$T/svc.tok"
out=$(DROCC_CA_CERT="$T/tls/ca.pem" "$T/bin/drocc" --server "https://localhost:$tls_port" \
  --token-file "$T/svc.tok" jobs -o json) || fail "drocc jobs over TLS failed: $out"
assert_eq "$(jq -r '[.[] | .user] | unique | join(",")' <<<"$out")" alice "users of the jobs seen over TLS"

# Every use is audited under the token's id; no secret is in the log or the database.
svc_id=$(cut -d_ -f2 "$T/svc.tok")
uses=$(as_root_drocc admin audit -n 1000 -o json | jq --arg t "token $svc_id" '[.[] | select(.target == $t)] | length')
((uses > 10)) || fail "only $uses audited uses of token $svc_id"
refused=$(as_root_drocc admin audit -n 1000 -o json |
  jq --arg t "token $revoked_id" '[.[] | select(.target == $t and .ok == false)] | length')
((refused >= 1)) || fail "the revoked token's refused use is not audited"
sqlite3 "$T/droccd.db" 'PRAGMA wal_checkpoint(FULL)' >/dev/null 2>&1 || true
for f in svc revoked expired; do
  secret=$(cut -d_ -f3 "$T/$f.tok")
  for where in "$T/droccd.log" "$T/droccd.db" "$T/droccd.db-wal"; do
    [[ -f $where ]] || continue
    if grep -qaF "$secret" "$where"; then fail "the $f token's secret is in $where"; fi
  done
done
pass
