# Entry points for developers and CI. The heavy lifting is in scripts/infra.sh (PostgreSQL, RabbitMQ and a mail
# catcher from the Debian packages, data under .data/) and scripts/services.sh (the five services in the background).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# A rustup toolchain lives in ~/.cargo/bin; make it visible even when the login shell did not add it. Tests call
# rabbitmqctl/rabbitmq-server (in /usr/sbin) by name.
export PATH := $(HOME)/.cargo/bin:$(PATH):/usr/sbin:/sbin

INFRA    := bash scripts/infra.sh
SERVICES := bash scripts/services.sh

# The exact cargo invocations of `make test`; override on the command line, e.g.
#   make test CARGO_TEST='cargo test -p intake -- --test-threads=1'
CARGO_BUILD_TESTS ?= cargo build --workspace --all-targets
CARGO_TEST        ?= cargo test --workspace --no-fail-fast -- --test-threads=4
BENCH_OUT         ?= bench/results/latest.json

.PHONY: help up down status test test-infra-stop bench demo fmt lint clean-data

help: ## list the targets
	@echo "Targets:"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN { FS = ":.*## " } { printf "  make %-16s %s\n", $$1, $$2 }'
	@echo "Variables: INFRA_MINIMAL=1 (skip dovecot/chromium packages), CARGO_TEST='...', CARGO_BUILD_TESTS='...'"

up: ## install and start PostgreSQL, RabbitMQ, the mail catcher and all five services; print URLs and the admin token
	$(INFRA) install
	$(INFRA) start dev
	$(SERVICES) up

down: ## stop what `make up` started (data is kept)
	$(SERVICES) down

status: ## show what runs (services and infrastructure)
	$(SERVICES) status
	@$(INFRA) status test

test: ## everything CI runs: test infrastructure (ports 55432/5673), then build and run all tests
	$(INFRA) install
	$(INFRA) start test
	mkdir -p .data/test
	eval "$$($(INFRA) env test)" && $(CARGO_BUILD_TESTS) && status=0 && \
	  { $(CARGO_TEST) 2>&1 | tee .data/test/last-run.log || status=$$?; } && \
	  awk '/^test result:/ { p += $$4; f += $$6 } END { printf "%d passed, %d failed\n", p, f }' .data/test/last-run.log && \
	  exit $$status

test-infra-stop: ## stop the test PostgreSQL/RabbitMQ (make test leaves them running for the next run)
	$(INFRA) stop test

bench: ## run the benchmarks against the test infrastructure; results in bench/results/latest.json
	$(INFRA) install
	$(INFRA) start test
	mkdir -p "$(dir $(BENCH_OUT))"
	cargo build --release --bins
	eval "$$($(INFRA) env test)" && ./target/release/bench --out $(BENCH_OUT)

demo: ## load sample feedback (not available yet)
	@echo "make demo: not available yet"

fmt: ## format all code
	cargo fmt --all

lint: ## clippy on everything, warnings are errors
	cargo clippy --workspace --all-targets -- -D warnings

clean-data: ## stop everything and delete .data (databases, broker state, captured mail, logs)
	-$(SERVICES) down
	-$(INFRA) stop test
	rm -rf .data
