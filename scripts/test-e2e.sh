#!/usr/bin/env bash
# `make test-e2e`: everything under tests/. The fault scenarios (a stack of their
# own on their own MariaDB server and RabbitMQ node) run in a second pytest
# process beside the rest (which shares one embedded stack, in order), so their
# waits overlap. Fails if either fails or collects nothing (pytest exit code 5).
set -u
PYTEST=${PYTEST:-.venv/bin/pytest}
log=$(mktemp)
"$PYTEST" -q tests/faults >"$log" 2>&1 &
faults=$!
"$PYTEST" -q tests --ignore=tests/faults
rest=$?
wait "$faults"
status=$?
echo "== tests/faults (exit $status)"
cat "$log"
rm -f "$log"
echo "== tests/ without faults (exit $rest)"
[ "$rest" -eq 0 ] && [ "$status" -eq 0 ]
