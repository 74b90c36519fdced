# Two commands a new user needs: `make demo` (the main job against the embedded simulator) and
# `make test` (lint, types and the whole test suite). Both create .venv from constraints.txt first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python example_dags/run_demo.py

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,bench]"
	$(BIN)/python benchmarks/run_all.py

# Re-resolve every pinned version (run after changing dependencies in pyproject.toml).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade "pip==26.3"
	.venv-lock/bin/python -m pip install --quiet -e ".[dev,bench]"
	.venv-lock/bin/python -m pip freeze --exclude-editable --exclude airflow-provider-hubspot-assoc > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .demo .airflow-test .pytest_cache .mypy_cache .ruff_cache
