#!/usr/bin/env bash
# The README's test command: set up (once), start PostgreSQL for the multi-worker tests, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
if url=$(bash scripts/postgres.sh) && [[ "$url" =~ ^postgresql://[^[:space:]]+$ ]]; then
  export KWS_NAS_TEST_PG_URL="$url"
elif [ -n "${url:-}" ]; then
  echo "[test] scripts/postgres.sh printed '$url', expected one postgresql:// URL" >&2
  exit 2
elif [ -n "${CI:-}" ]; then
  echo "[test] PostgreSQL could not be started; CI needs it for the multi-worker tests" >&2
  exit 2
else
  echo "[test] PostgreSQL could not be started: the multi-worker tests will skip" >&2
fi
exec .venv/bin/python -m pytest "$@"
