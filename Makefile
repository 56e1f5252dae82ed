# Two commands: `make run` serves the app with demo data; `make test` runs the suite.
# Everything either needs is installed from here.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PORT ?= 5000
# The links the pages hand out (PUBLIC_BASE_URL) point at the port served.
export PORT
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

.PHONY: install run test lint bench assets browser pdf-tools clean translations

install: $(STAMP) assets catalogues

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# GOV.UK Frontend and MOJ Frontend come from npm and are copied, never committed.
assets: node_modules/.installed
	mkdir -p diversion/static/govuk diversion/static/moj diversion/static/vendor
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js diversion/static/govuk/
	cp -r node_modules/govuk-frontend/dist/govuk/assets diversion/static/govuk/
	cp node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js diversion/static/moj/
	cp node_modules/axe-core/axe.min.js diversion/static/vendor/

# Participant text in Welsh: the .po catalogues are committed, their compiled .mo files
# are made here and never committed. `make translations` gathers new or changed text
# into every catalogue for translating (docs/operations.md, "Welsh").
TRANSLATIONS := diversion/translations
CATALOGUES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
PYBABEL := $(VENV)/bin/pybabel

.PHONY: catalogues
catalogues: $(CATALOGUES:.po=.mo)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(STAMP)
	$(PYBABEL) compile --statistics -l $* -i $< -o $@

translations: $(STAMP)
	$(PYBABEL) extract -F babel.cfg -c Translators: --sort-by-file --project=diversion \
		-o $(TRANSLATIONS)/messages.pot .
	$(PYBABEL) update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --ignore-obsolete
	rm $(TRANSLATIONS)/messages.pot

# Debian's Chromium for the browser tests (never a browser download of Playwright's own).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# poppler-utils (pdftotext) for the tests that read printed documents back as text.
pdf-tools:
	@command -v pdftotext >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null)

# The web server, the scheduler and (outside production) the mail sink together; Ctrl-C
# stops them all. The sink keeps every message in instance/mail/ for /admin/mail. On PostgreSQL with
# MIGRATION_DATABASE_URL (the owner) beside DATABASE_URL (the application's role), the
# migrations run as the owner and the application's role gets only the rights it needs.
run: install
	$(FLASK) db upgrade
	if [ -n "$$MIGRATION_DATABASE_URL" ]; then $(FLASK) db grant-app-role; fi
	$(FLASK) seed-demo --if-empty
	trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(FLASK) mail-sink & $(FLASK) scheduler & $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install browser pdf-tools
	$(VENV)/bin/ruff check diversion tests migrations bench
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check diversion tests migrations bench
	$(VENV)/bin/mypy

# Benchmarks at national scale: PostgreSQL and SQLite, one table, bench/results.json.
# `make bench BENCH_SIZES=12000` for a quick run. The PostgreSQL database is dropped and recreated.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/bench
BENCH_SIZES ?= 12000 120000
bench: install
	$(PY) -m pip install --quiet -e '.[test,bench]'
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_SIZES="$(BENCH_SIZES)" $(PY) bench/run.py

clean:
	rm -rf $(VENV) node_modules diversion/static/govuk diversion/static/moj diversion/static/vendor
