#!/usr/bin/env bash
# The server the Playwright suite runs against: the debug build, the dev site, demo data,
# and a fresh database every run.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
db_dir=$(mktemp -d)
exec env LEPTOS_SITE_ROOT="$target_dir/site-dev" \
  TOLLGATE_DATABASE_URL="sqlite://$db_dir/e2e.db" \
  TOLLGATE_BILLING_PORTAL_URL="https://billing.example/portal" \
  TOLLGATE_STRIPE_WEBHOOK_SECRET="whsec_e2e_test_secret" \
  TOLLGATE_WEBHOOK_ALLOW_NETS="127.0.0.1/32" \
  TOLLGATE_DELIVERY_RETRY_SECS="0,1,1" \
  "$target_dir/debug/tollgate" serve --addr "${E2E_ADDR:-127.0.0.1:3100}" --demo
