# Two commands: `make run` serves Intake with demo data; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := intake

MO := intake/translations/de/LC_MESSAGES/messages.mo

.PHONY: run test bench lint setup clean translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Compiled catalogs are built, not committed.
$(MO): intake/translations/de/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d intake/translations -l de

# Refresh the catalog after changing customer-facing text, then translate what is new.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o /tmp/intake-messages.pot .
	$(BIN)/pybabel update -i /tmp/intake-messages.pot -d intake/translations

setup: $(STAMP) $(MO)

# Links in mail (the demo's too) are built on this address, never on a request's Host header.
run: export INTAKE_BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP) $(MO)
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	@echo
	@echo "  Intake is at http://$(HOST):$(PORT)/"
	@echo "  Sign in as a rep:             alice@example.com / intake-demo"
	@echo "  or as the channel manager:    manager@example.com / intake-demo"
	@echo "  Partners sign in at           http://$(HOST):$(PORT)/partner/login  (e.g. oliver@thames.example;"
	@echo "                                the link arrives in the channel manager's Mail page)"
	@echo "  The API reference is at       http://$(HOST):$(PORT)/api/v1/reference  (a token for it:"
	@echo "                                .venv/bin/flask --app intake tokens create alice@example.com --scope write)"
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# The page checks' npm tools (axe-core and html-validate, tests/browser), installed from its lock
# file once. Offline, tools already installed stay (`npm ci` would first remove them); without
# them the page checks skip, or fail where INTAKE_REQUIRE_BROWSER=1 (CI), saying why.
PAGE_TOOLS := tests/browser/node_modules/.installed

$(PAGE_TOOLS): tests/browser/package.json tests/browser/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  echo "npm not found: the page checks will not run (apt-get install npm)" >&2; \
	elif [ -d tests/browser/node_modules ] && ! npm ping --fetch-retries=0 --fetch-timeout=10000 >/dev/null 2>&1; then \
	  echo "npm registry unreachable: keeping the page-check tools in tests/browser/node_modules" >&2; \
	else \
	  cd tests/browser && npm ci --no-audit --no-fund && touch node_modules/.installed \
	    || echo "npm ci failed in tests/browser: the page checks will not run" >&2; \
	fi

test: $(STAMP) $(MO) $(PAGE_TOOLS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP) $(MO)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check intake tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache tests/browser/node_modules
