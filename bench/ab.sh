#!/usr/bin/env bash
# Interleaved A/B of two release builds: both servers up at once, each on its own benchmark
# database, wrk alternating between them, so the VM's drift falls on both alike.
# Each build's folder must hold release/tollgate and the bench.db, bench-metering.keys and
# ingest.lua that scripts/bench.sh leaves in its CARGO_TARGET_DIR:
#   CARGO_TARGET_DIR=/tmp/bench-old scripts/bench.sh; CARGO_TARGET_DIR=/tmp/bench-new scripts/bench.sh
#   bench/ab.sh            (A = /tmp/bench-old on :3961, B = /tmp/bench-new on :3962)
set -u
cd /work/main
start() { # dir port
  local dir=$1 port=$2
  RUST_LOG=warn TOLLGATE_STRIPE_WEBHOOK_SECRET=whsec_bench_secret "$dir/release/tollgate" serve --addr 127.0.0.1:$port \
    --database "sqlite://$dir/bench.db" --catalog bench/catalog.toml >/dev/null 2>&1 &
  echo $!
}
old_pid=$(start /tmp/bench-old 3961); new_pid=$(start /tmp/bench-new 3962)
trap 'kill $old_pid $new_pid 2>/dev/null' EXIT
for p in 3961 3962; do for _ in $(seq 50); do curl -sf http://127.0.0.1:$p/readyz >/dev/null && break; sleep 0.2; done; done
cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' /proc/$1/stat; }
scenario() { # name dir port pid
  local name=$1 dir=$2 port=$3 pid=$4 what=$5
  local service_key scale_key; service_key=$(sed -n 1p $dir/bench-metering.keys); scale_key=$(sed -n 2p $dir/bench-metering.keys)
  local before; before=$(cpu $pid)
  local out
  case $what in
    verify)
      printf 'wrk.method="POST"\nwrk.body=%s\nwrk.headers["Content-Type"]="application/json"\nwrk.headers["Authorization"]="Bearer %s"\n' "'{\"key\": \"$scale_key\"}'" "$service_key" > /tmp/ab-verify-$port.lua
      out=$(wrk -t1 -c64 -d6s --latency -s /tmp/ab-verify-$port.lua http://127.0.0.1:$port/api/v1/keys/verify) ;;
    dashboard)
      local cookie; cookie=$(curl -s -D - -o /dev/null -H "Origin: http://127.0.0.1:$port" --data-urlencode email=bench@example.com --data-urlencode "password=bench password" http://127.0.0.1:$port/api/session/sign_in | awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }')
      out=$(wrk -t1 -c32 -d6s --latency -H "Cookie: $cookie" http://127.0.0.1:$port/dashboard) ;;
    ingest)
      sed "s#Bearer [^\"]*#Bearer $service_key#" "$dir/ingest.lua" > /tmp/ab-ingest-$port.lua
      out=$(wrk -t1 -c4 -d6s --latency -s /tmp/ab-ingest-$port.lua http://127.0.0.1:$port/api/v1/usage) ;;
    entitlements)
      out=$(wrk -t1 -c32 -d6s --latency -H "Authorization: Bearer $service_key" "http://127.0.0.1:$port/api/v1/entitlements/exports?account_id=acc_scale") ;;
  esac
  local n; n=$(echo "$out" | awk '/requests in/ {print $1}')
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p99; p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  awk -v a="$before" -v b="$(cpu $pid)" -v n="$n" -v name="$name" -v w="$what" -v r="$rps" -v p="$p99" 'BEGIN { printf "%-12s %-4s %10s req/s  p99 %-8s  %.1f us CPU/req\n", w, name, r, p, (b-a)*1e6/n }'
}
# warm-up
scenario old /tmp/bench-old 3961 $old_pid verify >/dev/null; scenario new /tmp/bench-new 3962 $new_pid verify >/dev/null
for round in 1 2 3; do
  for what in ${AB_SCENARIOS:-verify entitlements dashboard ingest}; do
    scenario old /tmp/bench-old 3961 $old_pid $what
    scenario new /tmp/bench-new 3962 $new_pid $what
  done
done
