#!/usr/bin/env bash
# The test suite: tap runs every test file (options in package.json "tap"), and its whole
# TAP stream goes to the terminal as before. When something fails, the last lines printed
# name each failing test and why (scripts/test-failures.mjs), because a CI log is often
# read only from its tail. The stream is also kept in .tap/last-run.tap.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tap
tap "$@" 2>&1 | tee .tap/last-run.tap
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  node scripts/test-failures.mjs .tap/last-run.tap || true
fi
exit "$rc"
