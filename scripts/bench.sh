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

if [ ! -f "$db" ] || [ ! -f "$target_dir/bench.key" ] || [ ! -f "$target_dir/bench-metering.keys" ]; then
  rm -f "$db" "$db-wal" "$db-shm" "$target_dir/bench.key" "$target_dir/bench-metering.keys"
  echo "==> generating 1,000 accounts with 90 days of history"
  "$bin" seed --accounts 1000 --days 90 --database "sqlite://$db"
  TOLLGATE_USER_PASSWORD="bench password" "$bin" user add --email bench@example.com \
    --account acc_gen_00000_1 --role owner --database "sqlite://$db" >/dev/null
  "$bin" key create --account acc_gen_00000_1 --name bench --database "sqlite://$db" > "$target_dir/bench.key" 2>/dev/null
  # The metering benchmarks: a service key, and an account on the benchmark catalog's
  # `scale` plan (limits far above the load) with a customer key.
  "$bin" account create --id acc_scale --name Scale --plan scale --catalog bench/catalog.toml --database "sqlite://$db" >/dev/null
  {
    "$bin" key create --service --name bench --database "sqlite://$db" 2>/dev/null
    "$bin" key create --account acc_scale --name bench --database "sqlite://$db" 2>/dev/null
  } > "$target_dir/bench-metering.keys"
fi
key=$(cat "$target_dir/bench.key")
service_key=$(sed -n 1p "$target_dir/bench-metering.keys")
scale_key=$(sed -n 2p "$target_dir/bench-metering.keys")

echo "==> starting the release server on $addr"
webhook_secret=whsec_bench_secret
RUST_LOG=warn LEPTOS_SITE_ROOT="$target_dir/site" TOLLGATE_STRIPE_WEBHOOK_SECRET=$webhook_secret \
  "$bin" serve --addr "$addr" --database "sqlite://$db" --catalog bench/catalog.toml >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.2; done

cookie=$(curl -s -D - -o /dev/null -H "Origin: $base" \
  --data-urlencode email=bench@example.com --data-urlencode "password=bench password" \
  "$base/api/session/sign_in" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }')
[ -n "$cookie" ] || { echo "error: could not sign in" >&2; exit 1; }

# The usage endpoint is rate-limited by the account's plan (a free plan allows 10 calls a
# minute); a bypass grant lifts that for the benchmark account, so the figure is the cost
# of serving the usage, not of refusing it.
curl -sf -o /dev/null -H "Authorization: Bearer $service_key" -H "Content-Type: application/json" \
  -d '{"kind": "bypass", "reason": "benchmark"}' "$base/api/v1/accounts/acc_gen_00000_1/grants"

# Server CPU seconds so far (user + system), from /proc.
cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$server/stat"; }

run() {
  local title=$1; shift
  echo
  echo "### $title"
  echo "\$ wrk $*"
  local before; before=$(cpu)
  local out; out=$(wrk "$@")
  echo "$out" | grep -E "Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx"
  local requests; requests=$(echo "$out" | awk '/requests in/ { print $1 }')
  awk -v a="$before" -v b="$(cpu)" -v n="$requests" \
    'BEGIN { if (n > 0) printf "  server CPU: %.1f s for %d requests = %.1f us per request\n", b - a, n, (b - a) * 1e6 / n }'
}

run "GET /dashboard (SSR, signed in)" -t1 -c32 -d"$duration" --latency -H "Cookie: $cookie" "$base/dashboard"
run "GET /api/v1/users/me/usage (customer key)" -t1 -c32 -d"$duration" --latency -H "Authorization: Bearer $key" "$base/api/v1/users/me/usage"
run "GET /api/v1/users/me/usage (session cookie)" -t1 -c32 -d"$duration" --latency -H "Cookie: $cookie" "$base/api/v1/users/me/usage"
run "GET /healthz (baseline: no auth, no database)" -t1 -c32 -d"$duration" --latency "$base/healthz"

# Sign-in: argon2id (m=19 MiB, t=2, p=1) dominates. One connection: one sign-in per email
# is checked at a time, so a second connection with the same email would measure refusals.
cat > "$target_dir/signin.lua" <<LUA
wrk.method = "POST"
wrk.body = "email=bench%40example.com&password=bench%20password"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$base"
LUA
run "POST sign-in (argon2id m=19 MiB, t=2, p=1)" -t1 -c1 -d"$duration" --latency -s "$target_dir/signin.lua" "$base/api/session/sign_in"

# ---- the metering hot path ----
cat > "$target_dir/verify.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"key": "$scale_key"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $service_key"
LUA
run "POST /api/v1/keys/verify (durable: each VALID answer is committed first)" -t1 -c64 -d"$duration" --latency -s "$target_dir/verify.lua" "$base/api/v1/keys/verify"

run "GET /api/v1/entitlements/{feature} (service key)" -t1 -c32 -d"$duration" --latency \
  -H "Authorization: Bearer $service_key" "$base/api/v1/entitlements/exports?account_id=acc_scale"

cat > "$target_dir/consume.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"account_id": "acc_scale", "quantity": 1}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $service_key"
LUA
run "POST /api/v1/quotas/api_calls/consume (durable)" -t1 -c64 -d"$duration" --latency -s "$target_dir/consume.lua" "$base/api/v1/quotas/api_calls/consume"

# Ingest: batches of 1,000 events, every idempotency key new (run id, connection, counter).
cat > "$target_dir/ingest.lua" <<LUA
local run = tostring(os.time()) .. tostring(math.random(1000000))
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $service_key"
request = function()
  counter = counter + 1
  local events = {}
  for i = 1, 1000 do
    events[i] = '{"idempotency_key":"' .. run .. '-' .. counter .. '-' .. i ..
      '","account_id":"acc_scale","meter":"api_calls","quantity":1,"properties":{"route":"/v1/search"}}'
  end
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(events, ",") .. ']}')
end
LUA
run "POST /api/v1/usage, batches of 1,000 events (durable)" -t1 -c4 -d"$duration" --latency -s "$target_dir/ingest.lua" "$base/api/v1/usage"
echo "  (events/s = Requests/sec x 1,000)"
curl -s "$base/metrics" | grep -E "^tollgate_writer_batch_jobs_(sum|count)|^tollgate_ingested_events_total"

# ---- billing webhooks ----
# Link a subscription to the benchmark account once, then send unique signed invoice.paid
# events for it (each one a full transaction: dedup record, license, link, outcome).
link_body='{"id":"evt_bench_link","type":"customer.subscription.created","created":'$(date +%s)',"data":{"object":{"id":"sub_bench","status":"active","customer":"cus_bench","items":{"data":[{"price":{"id":"price_demo_pro"}}]},"metadata":{"email":"bench@example.com"}}}}'
t=$(date +%s)
sig=$(node -e 'const c=require("node:crypto");process.stdout.write(c.createHmac("sha256",process.argv[1]).update(process.argv[2]+"."+process.argv[3]).digest("hex"))' "$webhook_secret" "$t" "$link_body")
curl -sf -o /dev/null -H "stripe-signature: t=$t,v1=$sig" -d "$link_body" "$base/api/webhooks/stripe"
node scripts/webhook-events.js "$webhook_secret" 60000 "$target_dir/webhook-events.lua"
cat > "$target_dir/webhook.lua" <<LUA
local events = dofile("$target_dir/webhook-events.lua")
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local e = events[((i - 1) % #events) + 1]
  wrk.headers["Stripe-Signature"] = e[1]
  return wrk.format(nil, nil, nil, e[2])
end
LUA
run "POST /api/webhooks/stripe, unique signed events (durable, one transaction each)" -t1 -c16 -d10s --latency -s "$target_dir/webhook.lua" "$base/api/webhooks/stripe"
curl -s "$base/metrics" | grep -E '^tollgate_webhook_events_total'
