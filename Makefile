# Rapport: `make run` starts the demo, `make test` runs what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test lint format migrate demo worker beat bench compose-config clean

help:
	@echo "make run     set up (virtualenv, dependencies, database, demo data) and start web, worker and beat"
	@echo "make test    lint and run the whole test suite (SQLite unless DATABASE_URL is set)"
	@echo "make lint    ruff check and format check"
	@echo "make format  apply ruff fixes and formatting"
	@echo "make bench   run the benchmarks and write bench/results.md"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { \
	  echo "Rapport needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install Python 3.12+ or run: make run PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

.env:
	cp .env.example .env

migrate: install .env
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	@echo ""
	@echo "  Rapport is starting at http://127.0.0.1:$(PORT)/   (Ctrl-C stops web, worker and beat)"
	@echo "  Log in as maya@example.com (account manager), exec@example.com (executive)"
	@echo "  or admin@example.com (administrator); every demo password is: rapport-demo"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" RAPPORT_PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# One process: transactional tests (browser, real workers) flush the database after themselves
# and pytest-django orders them last, which parallel runs would not keep.
test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

compose-config:
	docker-compose -f docker-compose.yml config --quiet

clean:
	rm -rf $(VENV) var/celery-broker var/test.sqlite3*
