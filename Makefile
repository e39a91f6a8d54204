# The README's two commands: `make start` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## Install everything the tests need (npm packages, redis-server, Chromium, toolchains)
	@bash scripts/setup.sh full

build: ## Install npm packages and build the gateway and the admin UI
	@bash scripts/setup.sh build

start: build ## Run the gateway, embedded single-node mode (REDIS_URL set: a cluster node)
	@exec node --enable-source-maps packages/node/dist/main.js

test: setup ## Run every test: lint, types, unit, integration, end-to-end, browser, deploy checks
	@bash scripts/test.sh

check: build ## Types, lint and formatting only
	@npm run --silent check

cluster: build ## Start redis-server and three gateway nodes on 127.0.0.2-4; Ctrl-C stops all
	@bash scripts/cluster.sh

cf-dev: build ## Run the Worker locally under wrangler dev (workerd) on 127.0.0.1:$${PORT:-8787}
	@bash scripts/cf-dev.sh

cf-deploy: build ## wrangler deploy (needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)
	@bash scripts/cf-deploy.sh

bench: build ## Quick benchmarks (under 5 minutes); results in benchmark-results/
	@bash scripts/bench.sh quick

bench-full: build ## All benchmark scenarios at full size
	@bash scripts/bench.sh full

.PHONY: help setup build start test check cluster cf-dev cf-deploy bench bench-full
