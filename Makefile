# The two commands of the README: `make run` and `make test`. Both build .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MUTATION_STAMP := $(VENV)/.mutation-stamp
MUTATION_JOBS ?= 2
PORT ?= 8000
SANDBOX_PORT ?= 9100

.PHONY: run test lint typecheck imports pytest bench mutation clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat -e '.[test]'
	touch $(STAMP)

# The hub on :$(PORT) with every built-in connector pointed at its simulator (ports $(SANDBOX_PORT) and up).
run: $(STAMP)
	mkdir -p var
	$(BIN)/lendhub db upgrade
	$(BIN)/lendhub users bootstrap
	$(BIN)/lendhub sandbox --port $(SANDBOX_PORT) --write-config var/connectors.sandbox.yaml --dry-run
	$(BIN)/lendhub sandbox --port $(SANDBOX_PORT) & sandbox=$$!; trap 'kill $$sandbox' EXIT INT TERM; \
	  LENDHUB_CONNECTORS_FILE=var/connectors.sandbox.yaml $(BIN)/lendhub serve --host 127.0.0.1 --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -q --durations=25

test: lint typecheck imports pytest

bench: $(STAMP)
	$(BIN)/python bench/outbound.py

# Not part of `make test` (minutes per module): mutmut over the safety-critical modules, each
# against its own tests; fails when one kills fewer than 90 % of its mutants (tools/mutation/run.py).
# MUTATION_ARGS passes options and module names, e.g. MUTATION_ARGS="--show retry".
$(MUTATION_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat -e '.[test,mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(BIN)/python tools/mutation/run.py --jobs $(MUTATION_JOBS) $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) var mutants .pytest_cache .mypy_cache .ruff_cache
