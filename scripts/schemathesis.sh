#!/usr/bin/env bash
# Schemathesis against the live OpenAPI document: a server on loopback with the demo data,
# once with a service key and once with a customer key, every check on, bounded in examples
# and time. Any 5xx, or any answer the document does not describe, fails the run.
#   scripts/schemathesis.sh [path/to/tollgate]      (default: target/debug/tollgate)
# Environment: ST_MAX_EXAMPLES (default 30), ST_SEED (default 1), ST_MAX_TIME (seconds per
# key, default 300; `make test` runs 60).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/debug/tollgate}
version="4.32.5"
venv=.tools/venv
if [ "$("$venv/bin/st" --version 2>/dev/null | awk '{print $3}')" != "$version" ]; then
  echo "==> installing schemathesis $version from PyPI into $venv (once)"
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo "==> installing Debian's python3-venv"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
db="sqlite://$work/st.db"
export TOLLGATE_LOG_FORMAT=text RUST_LOG=warn
cleanup() { [ -n "${server:-}" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A service key's rate limit raised so that the fuzzer reaches the logic behind it.
"$bin" serve --demo --database "$db" --addr "127.0.0.1:$port" --service-rate-limit 1000000 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }

key() { "$bin" key create --database "$db" "$@" | grep -o 'tg_[a-z]*_[A-Za-z0-9_-]*' | head -1; }
service=$(key --service --name schemathesis)
customer=$(key --account acc_acme --name schemathesis)
# The customer's plan limits (300 calls a minute) would answer most requests 429 and leave
# the logic behind them untested: a bypass grant lifts them for this account (usage is
# still metered and features still gated).
curl -fsS -X POST "http://127.0.0.1:$port/api/v1/accounts/acc_acme/grants" \
  -H "Authorization: Bearer $service" -H 'Content-Type: application/json' \
  -d '{"kind": "bypass", "reason": "schemathesis run"}' >/dev/null

status=0
for who in service customer; do
  token=${!who}
  echo "==> schemathesis with a $who key"
  "$venv/bin/st" --config-file "scripts/schemathesis/$who.toml" run "http://127.0.0.1:$port/api/openapi.json" \
    --checks all \
    --max-examples "${ST_MAX_EXAMPLES:-30}" \
    --seed "${ST_SEED:-1}" \
    --max-time "${ST_MAX_TIME:-300}" \
    --request-timeout 10 \
    --generation-database none \
    --no-color \
    --header "Authorization: Bearer $token" \
    || status=1
done
if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked:"; grep -A5 "panicked" "$work/server.log"; status=1
fi
exit $status
