# Two commands: `make run` (install, migrate, translate, seed, start) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# The suite runs in one process per core (pytest-xdist; each with its own test database).
PYTEST_WORKERS ?= auto
# The installer: uv, pinned, itself installed by pip; it puts the pinned
# requirements in place several times faster than pip does.
UV_VERSION := 0.13.9

.PHONY: run test install messages lint demo stack bench

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-excluded.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --excludes requirements-excluded.txt -r requirements-dev.txt
	touch $@

# Compiles the catalogues when GNU gettext is present; otherwise the
# committed .mo files are used as they are.
messages: install
	@if ! ls locale/*/LC_MESSAGES/django.po >/dev/null 2>&1; then \
		echo "no translation catalogues yet"; \
	elif command -v msgfmt >/dev/null 2>&1; then \
		$(BIN)/python manage.py compilemessages --ignore=$(VENV) --ignore=var -v 0; \
	else \
		echo "msgfmt not found: using the committed translation catalogues"; \
	fi

# Each step writes only what is missing: a second `make run` starts at once.
demo: install messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py generate_demo_footage

run: demo
	HOST=$(HOST) PORT=$(PORT) VENV=$(VENV) scripts/run.sh

# The production-shaped stack against this machine's PostgreSQL and Redis: gunicorn, a worker per queue, beat.
stack: install messages
	HOST=$(HOST) PORT=$(PORT) VENV=$(VENV) scripts/stack.sh

# Every benchmark at the SPEC's scale against this machine's PostgreSQL, one table at the end (benchmarks/all.py).
bench: install messages
	$(BIN)/python benchmarks/all.py $(BENCH_ARGS)

test: messages
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
