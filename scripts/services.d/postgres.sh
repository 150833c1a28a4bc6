#!/usr/bin/env bash
# PostgreSQL for tests/test_store.py: prints `export QC_TEST_PG_URL=…` (see scripts/ci-postgres.sh).
exec bash "$(dirname "$0")/../ci-postgres.sh"
