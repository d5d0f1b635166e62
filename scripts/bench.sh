#!/usr/bin/env bash
# Load benchmarks on loopback against the release build (`make bench`); figures go in
# BENCHMARKS.md. Needs `make build` first, and wrk (Debian's package; installed if missing).
# Every run is bounded: wrk runs for a fixed duration.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
bin="$target_dir/release/tollgate"
db="$target_dir/bench.db"
addr=127.0.0.1:3900
base="http://$addr"
duration=${BENCH_DURATION:-15s}

command -v wrk >/dev/null || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo; $SUDO apt-get install -y -qq wrk >/dev/null; }

if [ ! -f "$db" ]; then
  echo "==> generating 1,000 accounts with 90 days of history"
  "$bin" seed --accounts 1000 --days 90 --database "sqlite://$db"
  TOLLGATE_USER_PASSWORD="bench password" "$bin" user add --email bench@example.com \
    --account acc_gen_00000_1 --role owner --database "sqlite://$db" >/dev/null
  "$bin" key create --account acc_gen_00000_1 --name bench --database "sqlite://$db" > "$target_dir/bench.key" 2>/dev/null
fi
key=$(cat "$target_dir/bench.key")

echo "==> starting the release server on $addr"
RUST_LOG=warn LEPTOS_SITE_ROOT="$target_dir/site" "$bin" serve --addr "$addr" --database "sqlite://$db" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.2; done

cookie=$(curl -s -D - -o /dev/null -H "Origin: $base" \
  --data-urlencode email=bench@example.com --data-urlencode "password=bench password" \
  "$base/api/session/sign_in" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }')
[ -n "$cookie" ] || { echo "error: could not sign in" >&2; exit 1; }

run() {
  local title=$1; shift
  echo
  echo "### $title"
  echo "\$ wrk $*"
  wrk "$@" | grep -E "Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx"
}

run "GET /dashboard (SSR, signed in)" -t1 -c32 -d"$duration" --latency -H "Cookie: $cookie" "$base/dashboard"
run "GET /api/v1/users/me/usage (customer key)" -t1 -c32 -d"$duration" --latency -H "Authorization: Bearer $key" "$base/api/v1/users/me/usage"
run "GET /api/v1/users/me/usage (session cookie)" -t1 -c32 -d"$duration" --latency -H "Cookie: $cookie" "$base/api/v1/users/me/usage"
run "GET /healthz (baseline: no auth, no database)" -t1 -c32 -d"$duration" --latency "$base/healthz"

# Sign-in: argon2id (m=19 MiB, t=2, p=1) dominates. Two connections: one per core.
cat > "$target_dir/signin.lua" <<LUA
wrk.method = "POST"
wrk.body = "email=bench%40example.com&password=bench%20password"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$base"
LUA
run "POST sign-in (argon2id m=19 MiB, t=2, p=1)" -t1 -c2 -d"$duration" --latency -s "$target_dir/signin.lua" "$base/api/session/sign_in"
