# The README's two commands: `make book` (main job) and `make test` (every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
TEST_RUNS := _build/test-runs
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup chromium postgresql book book-notebooks playbook test test-quick lint sample clean

setup: $(STAMP) chromium postgresql ## .venv with the pinned versions; Chromium and PostgreSQL if missing

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

chromium: ## headless Chromium for the browser tests (Debian package)
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "Installing Chromium (Debian package)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi

postgresql: ## PostgreSQL server binaries for the database audit tests (Debian package)
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "Installing PostgreSQL (Debian package)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	fi

# Jupyter Book's execution cache does not see changes to the data or the package:
# clear it whenever either changed since the last build.
_build/.inputs-stamp: $(shell find pilot2prod datasets -type f -not -path '*/__pycache__/*')
	rm -rf _build/.jupyter_cache
	mkdir -p _build && touch $@

playbook: setup ## run every notebook on the sample company into runs/acme/
	$(BIN)/pilot2prod playbook -f engagements/acme.yaml --out runs/acme --quiet

# The book shows the notebooks with the sample engagement's parameters injected (the notebooks'
# own defaults are neutral); nbval re-executes exactly these copies.
book-notebooks: setup
	$(BIN)/pilot2prod prepare -f engagements/acme.yaml --out book

book: playbook book-notebooks _build/.inputs-stamp ## main job: run the playbook, then build the book
	PILOT2PROD_RUNS_DIR=$(CURDIR)/_build/book-runs $(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "Playbook outputs: $(CURDIR)/runs/acme/"
	@echo "Book:             $(CURDIR)/_build/html/index.html"

test: setup book-notebooks ## every test: lint, unit, engines, notebooks, CLI, nbval, book and browser
	$(BIN)/ruff check pilot2prod tests datasets benchmarks
	rm -rf $(TEST_RUNS) && mkdir -p $(TEST_RUNS)
	PILOT2PROD_RUNS_DIR=$(CURDIR)/$(TEST_RUNS) $(BIN)/python -m pytest tests -q
	PILOT2PROD_RUNS_DIR=$(CURDIR)/$(TEST_RUNS) $(BIN)/python -m pytest --nbval-lax book -q

test-quick: setup ## unit tests only (no notebooks, no book): seconds, for iteration
	$(BIN)/python -m pytest tests -q -m "not slow"

lint:
	$(BIN)/ruff check pilot2prod tests datasets
	$(BIN)/ruff format --check pilot2prod tests datasets

sample: setup ## regenerate the sample company (deterministic)
	$(BIN)/python datasets/generate.py

clean:
	rm -rf _build runs book
