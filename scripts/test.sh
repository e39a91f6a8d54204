#!/usr/bin/env bash
# `make test`: static checks, then every vitest project (unit, integration, e2e, browser), then
# the checks each area registers in scripts/test.d/. Results go to test-results/.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results/raw
status=0
step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

step "types, lint, format"
npm run --silent check || status=1

step "vitest: unit, integration, end-to-end, browser"
npx vitest run --reporter=default --reporter=junit --reporter=json \
  --outputFile.junit=test-results/junit.xml --outputFile.json=test-results/raw/vitest.json
vitest_status=$?
[ $vitest_status -eq 0 ] || status=1

for f in scripts/test.d/*.sh; do
  [ -e "$f" ] || continue
  step "$(basename "$f" .sh)"
  bash "$f" || status=1
done

step "summary"
VITEST_EXIT=$vitest_status node scripts/test-summary.mjs || status=1
exit $status
