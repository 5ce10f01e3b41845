# aftersales — the two set-up commands are `make demo` and `make test` (see README.md).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PORT    ?= 8000
# pytest-xdist workers: each starts its own PostgreSQL/Redis/SMTP on free loopback ports
PYTEST_WORKERS ?= auto
export PORT

.PHONY: demo test serve venv venv-dev assets lint check messages pytest-sqlite pytest-postgres clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.lock
	touch $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

var/vendor/.done: frontend/node_modules/.package-lock.json frontend/copy_assets.py
	$(PY) frontend/copy_assets.py var/vendor
	touch $@

assets: var/vendor/.done

## Start the system with demo data on SQLite (no Redis, no PostgreSQL needed).
demo: venv assets
	$(BIN)/aftersales demo

serve: venv assets
	$(BIN)/aftersales serve

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: venv-dev assets
	AFTERSALES_MODE=production SECRET_KEY=ci-check-$$(date +%s)-not-a-real-secret-key-0123456789abcdef \
	  PII_KEY=ci-check-pii-key-not-real-0123456789 ALLOWED_HOSTS=aftersales.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run

pytest-sqlite: venv-dev assets
	$(BIN)/pytest -n $(PYTEST_WORKERS)

pytest-postgres: venv-dev assets
	AFTERSALES_TEST_DATABASE=postgresql $(BIN)/pytest -n $(PYTEST_WORKERS)

## Run the whole test suite: lint, Django checks, then the tests on SQLite and on PostgreSQL.
test: lint check pytest-sqlite pytest-postgres

messages: venv-dev
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore '.venv/*' --ignore 'frontend/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf var/static var/vendor var/test*.sqlite3*
