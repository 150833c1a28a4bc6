#!/usr/bin/env bash
# Start what the integration tests need (PostgreSQL, headless Chromium) and write
# their settings to .test-services.env. Each part is optional outside CI: when it
# cannot start, the tests that need it skip with a message; under CI=true they fail.
set -u
cd "$(dirname "$0")/.."
: > .test-services.env
for part in scripts/services.d/*.sh; do
  [ -e "$part" ] || continue
  bash "$part" >> .test-services.env || echo "test-services: $part could not start" >&2
done
exit 0
