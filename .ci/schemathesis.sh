#!/usr/bin/env bash
# API conformance: Schemathesis against /api/v1/openapi.json of a running
# kept (issue 6). Every response must match the document (status, content
# type, headers, body schema) and none may be a 5xx. Bounded: a fixed number
# of examples per operation, and a hard wall-clock limit on each run.
#
#   .ci/schemathesis.sh            # as CI runs it
#   KEPT_ST_EXAMPLES=100 KEPT_ST_SEED=7 .ci/schemathesis.sh   # a longer, other run
#
# It builds the debug binary, serves the demo organisation on a scratch SQLite
# database on a free loopback port, logs in as the demo admin for API tokens,
# runs Schemathesis, stops the server by its pid and exits non-zero on any
# failure. Reports (NDJSON, JUnit), Schemathesis's cache of failures (for
# `st replay`, run with KEPT_ST_CACHE set to it) and the server's log land in
# $KEPT_ST_REPORTS (default target/schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
EXAMPLES="${KEPT_ST_EXAMPLES:-50}"
# Fewer for the run as a customer: most operations answer 403 to them.
CUSTOMER_EXAMPLES="${KEPT_ST_CUSTOMER_EXAMPLES:-15}"
SEED="${KEPT_ST_SEED:-20261124}"
# Hard limit per Schemathesis run, in seconds (the step must stay well under
# 6 minutes on a 2-core machine; a normal run takes far less).
LIMIT="${KEPT_ST_LIMIT:-240}"

venv="${KEPT_CI_CACHE:-$HOME/.cache/kept-ci}/schemathesis-$ST_VERSION"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
"$venv/bin/st" --version

cargo build --locked -p kept
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
kept="$target_dir/debug/kept"
reports="${KEPT_ST_REPORTS:-$target_dir/schemathesis}"
rm -rf "$reports"
mkdir -p "$reports"

scratch="$(mktemp -d)"
pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  cp "$scratch/serve.err" "$reports/serve.log" 2>/dev/null || true
  rm -rf "$scratch"
}
trap stop EXIT

# The full demo (3,000 cases) seeds in about 10 s in a debug build: real data
# behind every list, scorecard and drill-down is worth it.
"$kept" serve --demo --database-url "sqlite://$scratch/kept.db" --listen 127.0.0.1:0 \
  >"$scratch/serve.out" 2>"$scratch/serve.err" &
pid=$!
url=""
for _ in $(seq 1 240); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "kept serve exited before it was ready:" >&2
    cat "$scratch/serve.err" >&2
    exit 1
  fi
  line="$(head -n 1 "$scratch/serve.out" 2>/dev/null || true)"
  if [ -n "$line" ]; then
    url="${line#kept is running at }"
    break
  fi
  sleep 0.5
done
[ -n "$url" ] || { echo "kept serve did not start in 120 s" >&2; exit 1; }
echo "kept serves the demo at $url (pid $pid)"

token() {
  curl -fsS -X POST "$url/api/v1/auth/tokens" -H 'content-type: application/json' \
    -d "{\"email\": \"${2:-admin@demo.kept}\", \"password\": \"kept-demo-password\", \"name\": \"$1\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
# Both tokens up front: fuzzing POST /api/v1/auth/tokens with wrong
# passwords soon locks this client address out of password logins (429).
main_token="$(token schemathesis)"
revoke_token="$(token schemathesis-revoke)"
customer_token="$(token schemathesis-customer dana@northwind.example)"

st() {
  local name="$1"
  shift
  local status=0
  KEPT_ST_CACHE="$reports/cache" SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=.ci \
    timeout --signal=INT --kill-after=15 "$LIMIT" \
    "$venv/bin/st" --config-file .ci/schemathesis.toml run "$url/api/v1/openapi.json" \
    --max-examples "${examples:-$EXAMPLES}" --seed "$SEED" --workers 2 \
    --request-timeout 30 --no-color \
    --report ndjson,junit --report-dir "$reports" \
    --report-ndjson-path "$reports/$name.ndjson" --report-junit-path "$reports/$name.xml" \
    "$@" || status=$?
  if [ "$status" = 124 ]; then
    echo "Schemathesis ($name) ran out of its $LIMIT s" >&2
  fi
  return "$status"
}

failed=0
# 1. Every operation but the token revocation, as a customer of one account:
# what they may not do must be refused as documented, never a 5xx, and what
# they may do (their own cases) must answer as for anyone. It runs first:
# the admin's runs below may deactivate this customer or revoke their token
# by a fuzzed id, and everything after that would be 401s.
examples="$CUSTOMER_EXAMPLES" st customer -H "Authorization: Bearer $customer_token" \
  --exclude-operation-id revoke_token || failed=1
if ! curl -fsS -o /dev/null "$url/api/v1/me" -H "Authorization: Bearer $customer_token"; then
  echo "the customer token stopped working during the run: results after that are 401s" >&2
  failed=1
fi

# 2. Every operation but the token revocation, as the admin. Revoking tokens
# by fuzzed ids would sooner or later revoke this run's own token and turn
# everything after it into 401s, so that one operation runs on its own below.
st main -H "Authorization: Bearer $main_token" \
  --exclude-operation-id revoke_token || failed=1

# The run must have tested as the admin throughout: its token still works.
if ! curl -fsS -o /dev/null "$url/api/v1/me" -H "Authorization: Bearer $main_token"; then
  echo "the admin token stopped working during the run: results after that are 401s" >&2
  failed=1
fi

# 3. DELETE /api/v1/tokens/{id} with a token of its own: whatever it revokes,
# including itself, only ends this short run.
st revoke -H "Authorization: Bearer $revoke_token" \
  --include-operation-id revoke_token || failed=1

if ! kill -0 "$pid" 2>/dev/null; then
  echo "kept serve died during the run" >&2
  failed=1
fi
exit "$failed"
