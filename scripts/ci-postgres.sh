#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 for the store tests and print its URL.
#
#   eval "$(bash scripts/ci-postgres.sh)"     # exports QC_TEST_PG_URL
#   python -m pytest tests/test_store.py -q
#
# Installs PostgreSQL with apt-get when no server binaries are found (needs root), creates a
# cluster in $QC_PG_DIR (default /tmp/qc-pg) listening on 127.0.0.1:$QC_PG_PORT (default 54329)
# with trust authentication, creates the database qc_test and prints one line on stdout:
#   export QC_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:54329/qc_test
# Everything else goes to stderr. Running it again reuses a server that is already up.
# Stop it with: pg_ctl -D /tmp/qc-pg stop  (as the user printed below)
set -euo pipefail

DATA="${QC_PG_DIR:-/tmp/qc-pg}"
PORT="${QC_PG_PORT:-54329}"
DB="${QC_PG_DB:-qc_test}"

log() { echo "ci-postgres: $*" >&2; }

find_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

if ! PGBIN="$(find_bin)"; then
  if [ "$(id -u)" -ne 0 ]; then
    log "no PostgreSQL found and not root: install it (apt-get install postgresql) and rerun"
    exit 1
  fi
  log "installing PostgreSQL with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  PGBIN="$(find_bin)"
fi

# initdb refuses to run as root: run the server as the postgres user then.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  RUNAS=(runuser -u postgres --)
  OWNER=postgres
else
  RUNAS=()
  OWNER="$(id -un)"
fi

if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  log "reusing the server already listening on 127.0.0.1:$PORT"
else
  if [ ! -s "$DATA/PG_VERSION" ]; then
    rm -rf "$DATA"
    mkdir -p "$DATA"
    chown "$OWNER" "$DATA"
    chmod 700 "$DATA"
    "${RUNAS[@]}" "$PGBIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
      || "${RUNAS[@]}" "$PGBIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 >&2
  fi
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off" start >&2
fi

if ! "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" postgres | grep -q 1; then
  "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (data $DATA, owner $OWNER), database $DB"
echo "export QC_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
