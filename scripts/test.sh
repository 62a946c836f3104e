#!/usr/bin/env bash
# The README's test command: set up (once), start PostgreSQL for the multi-worker tests, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
if url=$(bash scripts/postgres.sh); then
  export KWS_NAS_TEST_PG_URL="$url"
else
  echo "[test] PostgreSQL could not be started: the multi-worker tests will skip" >&2
fi
exec .venv/bin/python -m pytest "$@"
