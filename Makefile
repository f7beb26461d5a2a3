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
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(STAMP) $(MO)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP) $(MO)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check intake tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
