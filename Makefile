# camfleet — the two commands are `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDEVMODE ?= 1

.PHONY: run test test-fast lint fmt check migrate messages bench fuzz install browser demo-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

messages: install
	$(BIN)/python manage.py compile_translations

migrate: install messages
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput

demo-data: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_demo_servers

run: export DJANGO_SETTINGS_MODULE = config.settings.dev
run: demo-data
	@echo
	@echo "  camfleet is starting at http://127.0.0.1:8000/"
	@echo "  (demo logins are listed above; Ctrl-C stops everything)"
	@echo
	$(BIN)/honcho start -f Procfile

# Debian's Chromium for the browser tests, and a Japanese font (Noto CJK) so that Japanese pages
# and their failure screenshots render real characters: installed when we are root, else
# explained. Quick when both are there.
browser:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing=" chromium"; \
	fc-list :lang=ja family 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing from Debian for the browser tests:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || { echo "Could not install Debian's$$missing."; exit 1; }; \
	  elif [ ! -x /usr/bin/chromium ]; then \
	    echo "The browser tests need Chromium: run 'sudo apt-get install$$missing' and try again."; exit 1; \
	  else \
	    echo "No Japanese font: Japanese pages render as boxes (sudo apt-get install fonts-noto-cjk)."; \
	  fi; \
	fi

test: export DJANGO_SETTINGS_MODULE = config.settings.test
test: install messages browser
	$(BIN)/pytest -n 2 --create-db

test-fast: export DJANGO_SETTINGS_MODULE = config.settings.test
test-fast: install messages
	$(BIN)/pytest -m "not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy --strict devices/vapix

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	DJANGO_SETTINGS_MODULE=config.settings.prod SECRET_KEY=check-only-$$(date +%s)-not-a-real-secret-value-0123456789 \
	  ALLOWED_HOSTS=camfleet.example DATABASE_URL=postgres://postgres@127.0.0.1:5432/camfleet \
	  CELERY_BROKER_URL=redis://127.0.0.1:6379/0 CACHE_URL=redis://127.0.0.1:6379/1 \
	  DEVICE_CREDENTIAL_KEYS=Y2hlY2stb25seS1ub3QtYS1yZWFsLWtleS0wMTIzNDU= \
	  LICENSE_SIGNING_KEY=Y2hlY2stb25seS1saWNlbnNlLXNpZ25pbmcta2V5LTA= \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run

# Benchmarks measure the product, not development mode (asyncio debug mode alone halves the simulator).
bench: install messages
	env -u PYTHONDEVMODE DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m bench

# The API fuzzer with a larger budget and a new seed each run (`make test` runs a small, fixed one).
# FUZZ_EXAMPLES=… FUZZ_SEED=… to choose; a failure prints the seed that reproduces it.
fuzz: export DJANGO_SETTINGS_MODULE = config.settings.test
fuzz: export FUZZ_EXAMPLES ?= 300
fuzz: export FUZZ_SEED ?= $(shell date +%s)
fuzz: install messages
	@echo "API fuzzer: FUZZ_EXAMPLES=$$FUZZ_EXAMPLES FUZZ_SEED=$$FUZZ_SEED"
	$(BIN)/pytest -n 2 --create-db -p no:randomly tests/organizations/test_api_fuzz.py
