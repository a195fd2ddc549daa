# Berth — the two commands: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
export BERTH_HOME ?= $(CURDIR)/var

.PHONY: run test test-unit test-mysql test-e2e bench lint bootstrap bootstrap-test clean

bootstrap:
	@scripts/bootstrap.sh run

bootstrap-test:
	@scripts/bootstrap.sh test

## make run: the whole stack in the foreground on http://127.0.0.1:$${BERTH_PORT:-8080}
run: bootstrap
	@exec $(VENV)/bin/berth-run

## make test: unit (SQLite + embedded bus), the same against MariaDB + RabbitMQ, then e2e
test: bootstrap-test
	@scripts/ensure-services.sh
	$(MAKE) --no-print-directory test-unit test-mysql test-e2e

# Service suites run on both cores. Under tests/, the fault scenarios (their own
# stack, MariaDB and RabbitMQ) run in a second pytest process beside the rest.
JOBS ?= 2

test-unit:
	BERTH_TEST_BACKEND=sqlite $(PYTEST) -q -n $(JOBS) -m "not e2e and not integration" libs services

test-mysql:
	BERTH_TEST_BACKEND=mysql $(PYTEST) -q -n $(JOBS) -m "not e2e" libs services

test-e2e:
	@PYTEST=$(PYTEST) scripts/test-e2e.sh

## make bench: Berth against its baselines (FULL=1: the full sizes, long)
bench: bootstrap-test
	@scripts/ensure-services.sh
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	$(PY) -m bench $(if $(FULL),--full,)

lint:
	$(VENV)/bin/ruff check libs services tests
	$(VENV)/bin/mypy libs/common/src

clean:
	rm -rf var .pytest_cache
