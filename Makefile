# wagtail-easycars: `make demo` runs the example dealership site, `make test` runs every check.
# Both create .venv on first use (python3 -m venv) and install the package editable into it.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install demo test test-sqlite test-postgres lint format migrations-check screenshots clean-demo

help:
	@echo "make demo              run the example site, the EasyCars sandbox and a django-q2 worker"
	@echo "make test              lint, migrations check, the whole suite on SQLite and PostgreSQL"
	@echo "make lint              ruff check"
	@echo "make format            ruff format + ruff check --fix"
	@echo "make migrations-check  makemigrations --check for the package and the example site"
	@echo "make screenshots       refresh docs/screenshots/ from the browser tests (needs chromium)"
	@echo "make clean-demo        forget the demo database, media and key (.demo/, example_site/db.sqlite3)"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "wagtail-easycars needs Python 3.11 or newer; run: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependency lists change.
$(STAMP): $(PY) pyproject.toml example_site/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]" -r example_site/requirements.txt
	@touch $@

install: $(STAMP)

demo: install
	@scripts/demo.sh

test: install
	@scripts/test.sh

test-sqlite: install
	@scripts/test.sh --sqlite-only

test-postgres: install
	@scripts/test.sh --postgres-only

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: install
	@scripts/migrations_check.sh

screenshots: install
	EASYCARS_SCREENSHOTS=1 $(PY) -m pytest -q -m browser

clean-demo:
	rm -rf .demo example_site/db.sqlite3 example_site/db.sqlite3-shm example_site/db.sqlite3-wal example_site/media example_site/.cache
