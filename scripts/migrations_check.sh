#!/usr/bin/env bash
# makemigrations --check for the package (against the test settings) and for the example site.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$PWD/$VENV/bin/python"

# The system checks run first and insist on an encryption key: the test settings have a fixed one,
# and the example site makes its development key (.demo/encryption.key) on first use.
echo "==> makemigrations --check (wagtail_easycars)"
DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. "$PY" -m django makemigrations --check --dry-run
echo "==> makemigrations --check (example_site)"
(cd example_site && env -u DATABASE_URL "$PY" manage.py makemigrations --check --dry-run)
