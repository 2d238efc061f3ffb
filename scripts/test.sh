#!/usr/bin/env bash
# Runs the whole test suite with node's built-in runner through tsx, then
# refuses a run that executed no test (Node 20 passes silently when the file
# list is empty). The shell expands the file list on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
# The suite's servers and clients run on loopback; plaintext there must be
# asked for explicitly (--insecure). Tests of TLS give certificate files, which
# take precedence.
export ALBUMSHARE_INSECURE=1
shopt -s globstar nullglob
files=(test/**/*.test.ts)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found under test/" >&2
  exit 1
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
# A test that hangs fails after 10 minutes instead of stalling the whole run.
node --import tsx --test --test-concurrency=2 --test-timeout=600000 --test-reporter=spec "${files[@]}" 2>&1 | tee "$log" || status=$?
tests=$(grep -E '^ℹ tests [0-9]+' "$log" | tail -1 | awk '{print $3}')
if [ -z "${tests:-}" ] || [ "$tests" -eq 0 ]; then
  echo "the test run executed no test" >&2
  exit 1
fi
exit "$status"
