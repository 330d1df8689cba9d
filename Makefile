# Rapport: `make run` starts the demo, `make test` runs what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test lint format migrate demo worker beat bench compose-config clean \
        lock bandit check-deploy faults faults-beats

help:
	@echo "make run     set up (virtualenv, dependencies, database, demo data) and start web, worker and beat"
	@echo "make test    lint and run the whole test suite (SQLite unless DATABASE_URL is set)"
	@echo "make lint    ruff check and format check"
	@echo "make format  apply ruff fixes and formatting"
	@echo "make bench   run the benchmarks and write bench/results.md"
	@echo "make faults  fault tests (Redis down, workers killed, PostgreSQL down) on private servers"
	@echo "make faults-beats  two beat processes for ten minutes: nothing sent twice"
	@echo "make lock    re-pin requirements.lock and requirements-dev.lock from pyproject.toml"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { \
	  echo "Rapport needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install Python 3.12+ or run: make run PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Installs the pinned versions (requirements-dev.lock, from `make lock`) and the project itself.
$(VENV)/.installed: pyproject.toml requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock -e '.[dev]'
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

lint: install bandit check-deploy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Security linter, medium severity and above; waivers are inline `# nosec BXXX` with a reason.
bandit: install
	$(BIN)/bandit -c pyproject.toml -r . -ll -q

# Django's deployment checklist with production settings (DEBUG off, a real secret, HTTPS).
check-deploy: install
	DEBUG=0 RAPPORT_DOTENV=0 SECRET_KEY=check-deploy-only-0f8e7d6c5b4a39281706f5e4d3c2b1a0-not-used \
	  ALLOWED_HOSTS=rapport.example.com STATIC_MANIFEST=1 \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

# Re-pin after changing dependencies in pyproject.toml (keeps current pins where they still fit;
# add --upgrade to both lines to move everything to the newest allowed versions).
lock: install
	$(BIN)/uv pip compile pyproject.toml --python-version 3.12 --universal --quiet -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.12 --universal --quiet \
	  -c requirements.lock -o requirements-dev.lock

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# One process: transactional tests (browser, real workers) flush the database after themselves
# and pytest-django orders them last, which parallel runs would not keep.
test: lint
	$(BIN)/pytest

# Fault tests on private PostgreSQL and Redis servers (never the machine's shared ones).
faults: install
	$(BIN)/python -m tests.faults.run tests/faults --ignore=tests/faults/test_two_beats.py

faults-beats: install
	$(BIN)/python -m tests.faults.run tests/faults/test_two_beats.py

bench: install
	$(BIN)/python -m bench

compose-config:
	docker-compose -f docker-compose.yml config --quiet

clean:
	rm -rf $(VENV) var/celery-broker var/test.sqlite3*
