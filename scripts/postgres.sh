#!/usr/bin/env bash
# Start the Debian PostgreSQL cluster (if needed) and make a database for multi-worker studies.
# Prints the storage URL, and nothing else, on stdout: pg_ctlcluster talks on stdout too
# ("Removed stale pid file."), so its output goes to stderr. The server it starts must not inherit
# our stdout, or a caller's $(...) would wait for the server to exit.
set -euo pipefail
DB=${KWS_PG_DB:-kws_nas}
USER_NAME=${KWS_PG_USER:-kws}
PASS=${KWS_PG_PASSWORD:-kws}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! $SUDO pg_lsclusters -h | grep -q online; then
  $SUDO pg_lsclusters -h | grep -q "^$version main" || $SUDO pg_createcluster "$version" main >/dev/null
  if ! $SUDO pg_ctlcluster "$version" main start >&2; then
    $SUDO tail -n 20 "/var/log/postgresql/postgresql-$version-main.log" >&2 || true
    exit 1
  fi
fi
as_pg() { $SUDO -u postgres "$@" 2>/dev/null || su postgres -c "$(printf '%q ' "$@")"; }
as_pg psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='$USER_NAME'" | grep -q 1 \
  || as_pg psql -qc "CREATE ROLE $USER_NAME LOGIN PASSWORD '$PASS'" >/dev/null
as_pg psql -qtAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 \
  || as_pg createdb -O "$USER_NAME" "$DB" >&2
echo "postgresql://$USER_NAME:$PASS@127.0.0.1:5432/$DB"
