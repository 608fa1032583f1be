#!/usr/bin/env bash
# The whole check: ruff, makemigrations --check, then the suite on SQLite and on PostgreSQL
# (when a server answers on $PG_HOST:$PG_PORT). Any failure, or a run that collects no tests
# (pytest exit status 5), fails the script.
#
#   scripts/test.sh [--sqlite-only | --postgres-only] [extra pytest args...]
#
# Environment: VENV (.venv), PYTEST_WORKERS (2), PYTEST_ARGS (extra pytest arguments, e.g. "tests/test_crypto.py"),
# PG_HOST (127.0.0.1), PG_PORT (5432),
# PG_DATABASE_URL (postgres://postgres@$PG_HOST:$PG_PORT/easycars; pytest-django creates test_easycars_gwN).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PY="$PWD/$VENV/bin/python"
WORKERS="${PYTEST_WORKERS:-2}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_DATABASE_URL="${PG_DATABASE_URL:-postgres://postgres@$PG_HOST:$PG_PORT/easycars}"

run_sqlite=1
run_postgres=1
case "${1:-}" in
    --sqlite-only) run_postgres=0; shift ;;
    --postgres-only) run_sqlite=0; shift ;;
esac

started=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$1" "$(($(date +%s) - started))"; }

step "ruff check"
"$VENV/bin/ruff" check .

step "makemigrations --check"
scripts/migrations_check.sh

if [[ -x /usr/bin/chromium ]] && "$PY" -c "import playwright" 2>/dev/null; then
    echo "Browser tests: enabled (/usr/bin/chromium + playwright)."
else
    echo "NOTICE: browser tests will be SKIPPED: they need /usr/bin/chromium (apt-get install chromium) and playwright."
fi

pytest_args=(-q -rfEs --durations=15)
if [[ "$WORKERS" != "0" ]] && "$PY" -c "import xdist" 2>/dev/null; then
    pytest_args+=(-n "$WORKERS" --dist loadfile)
fi

# shellcheck disable=SC2206  # PYTEST_ARGS is split on spaces on purpose
extra_args=(${PYTEST_ARGS:-})
set -- "${extra_args[@]}" "$@"

tmpdir="$(mktemp -d)"
trap 'rm -rf "$tmpdir"' EXIT

status=0
if [[ $run_sqlite == 1 ]]; then
    step "pytest on SQLite"
    # File-backed test databases (one per xdist worker) so live-server and sandbox threads share them.
    EASYCARS_SQLITE_TEST_NAME="$tmpdir/easycars.sqlite3" \
        env -u DATABASE_URL "$PY" -m pytest "${pytest_args[@]}" "$@" || status=$?
    if [[ $status != 0 ]]; then
        echo "FAILED: pytest on SQLite exited with status $status$([[ $status == 5 ]] && echo ' (no tests collected)')."
        exit "$status"
    fi
fi

if [[ $run_postgres == 1 ]]; then
    if "$PY" -c "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()" \
        "$PG_HOST" "$PG_PORT" 2>/dev/null; then
        step "pytest on PostgreSQL ($PG_HOST:$PG_PORT)"
        DATABASE_URL="$PG_DATABASE_URL" "$PY" -m pytest "${pytest_args[@]}" "$@" || status=$?
        if [[ $status != 0 ]]; then
            echo "FAILED: pytest on PostgreSQL exited with status $status$([[ $status == 5 ]] && echo ' (no tests collected)')."
            exit "$status"
        fi
    elif [[ $run_sqlite == 0 ]]; then
        echo "FAILED: no PostgreSQL server answers on $PG_HOST:$PG_PORT."
        exit 1
    else
        echo "NOTICE: no PostgreSQL server answers on $PG_HOST:$PG_PORT; the PostgreSQL run is SKIPPED."
    fi
fi

step "all checks passed"
