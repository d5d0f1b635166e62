# Tollgate. Quick start: `make run` serves the demo; `make test` runs every test.
# Both install what they are missing first (scripts/setup.sh), so a fresh machine works.

SHELL := /bin/bash
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR
SITE_RELEASE := $(CARGO_TARGET_DIR)/site
SITE_DEV := $(CARGO_TARGET_DIR)/site-dev
# `make run` serves demo data unless told otherwise; every other TOLLGATE_* setting in
# the environment passes straight through to the binary.
export TOLLGATE_DEMO ?= 1

.PHONY: run build test test-rust test-e2e lint bench schemathesis

## Build the optimised site and serve it with demo data at http://127.0.0.1:3000.
run: build
	LEPTOS_SITE_ROOT=$(SITE_RELEASE) $(CARGO_TARGET_DIR)/release/tollgate serve

## The release binary and the optimised WASM site.
build:
	scripts/setup.sh
	scripts/build-site.sh release $(SITE_RELEASE)
	cargo build --release -p server

## Every test: lints, Rust unit and integration tests, the Playwright suite, and the API
## fuzzed against its own OpenAPI document.
test: lint test-rust test-e2e schemathesis

lint:
	scripts/setup.sh
	scripts/check-module-cycles.py --self-test
	scripts/check-module-cycles.py
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

test-rust:
	scripts/setup.sh
	cargo test

test-e2e:
	scripts/setup.sh --browser
	scripts/build-site.sh dev $(SITE_DEV)
	cargo build -p server
	cd end2end && npx playwright test

## Schemathesis against the live OpenAPI document (service key, then customer key), one
## minute per key; `ST_MAX_TIME=600 make schemathesis` for a longer run.
ST_MAX_TIME ?= 60
export ST_MAX_TIME
schemathesis:
	scripts/setup.sh
	cargo build -p server
	LEPTOS_SITE_ROOT=$(SITE_DEV) scripts/schemathesis.sh $(CARGO_TARGET_DIR)/debug/tollgate

## Load benchmarks on loopback against the release build; see BENCHMARKS.md.
bench: build
	scripts/bench.sh
	cargo run --release -p engine --example key_auth
