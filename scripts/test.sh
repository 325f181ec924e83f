#!/bin/sh
# The whole test suite: types, lint, format, then every unit and end-to-end test on node:test.
# With CI=true a skipped test fails the run: in CI (root, every tool installed) nothing may skip.
set -eu
cd "$(dirname "$0")/.."
tap="${TMPDIR:-/tmp}/kproxy-test-$$.tap"
trap 'rm -f "$tap"' EXIT

echo "== typecheck"; tsc -p tsconfig.check.json
echo "== lint"; eslint --max-warnings 0 .
echo "== format"; prettier --check . >/dev/null || { prettier --check .; exit 1; }
echo "== tests"
status=0
node --test --test-concurrency="${KPROXY_TEST_CONCURRENCY:-2}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  ${KPROXY_TEST_FILES:-'src/**/*.test.ts' 'test/**/*.test.ts'} || status=$?
skipped=$(grep -c '# SKIP' "$tap" || true)
if [ "$skipped" -gt 0 ]; then
  echo "== skipped tests ($skipped):"
  grep '# SKIP' "$tap" | sed 's/^ */  /'
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $skipped test(s) skipped with CI=true; in CI every test must run." >&2
    status=1
  fi
fi
exit $status
