#!/usr/bin/env bash
# Installs what the build needs and is missing; quick when everything is there.
#   scripts/setup.sh            toolchain target, wasm-bindgen-cli, npm packages
#   scripts/setup.sh --browser  also Debian's chromium, for the Playwright suite
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "error: cargo is missing; install Rust with rustup first" >&2; exit 1
fi
if ! command -v npm >/dev/null; then
  echo "error: npm is missing; install Node.js 20 or newer first" >&2; exit 1
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (about 5 minutes, once)"
  # Not --locked: one of its locked dependency versions is no longer on crates.io.
  cargo install wasm-bindgen-cli --version "$want"
fi

# binaryen (wasm-opt), ECharts and Playwright, pinned by package-lock.json.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  say "installing Debian's chromium (about a minute, once)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
