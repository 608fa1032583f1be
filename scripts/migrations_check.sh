#!/usr/bin/env bash
# makemigrations --check for the package (against the test settings) and for the example site.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$PWD/$VENV/bin/python"

# The system checks run first and insist on an encryption key; any valid key will do here.
export EASYCARS_ENCRYPTION_KEY="${EASYCARS_ENCRYPTION_KEY:-$("$PY" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')}"

echo "==> makemigrations --check (wagtail_easycars)"
DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. "$PY" -m django makemigrations --check --dry-run
echo "==> makemigrations --check (example_site)"
(cd example_site && env -u DATABASE_URL "$PY" manage.py makemigrations --check --dry-run)
