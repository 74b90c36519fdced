# Two commands a new user needs: `make demo` (the main job against the embedded simulator) and
# `make test` (lint, types, the whole test suite and the version lane, then the deployment test).
# Both create .venv from constraints.txt (the pinned Airflow 3.3 stack) first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEPLOYMENT_TEST := tests/e2e/test_deployment.py
# Bytecode caches (assertion-rewritten test modules included) make a second `make test` start faster.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint typecheck pytest deployment versions bench lock lock-versions clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python example_dags/run_demo.py

# Lint first. Then types, the suite and the version lanes at once: the suite often waits (on
# time-scaled rate limits, sensors, killed workers) and leaves a core idle, which the lanes take at a
# lower priority; each one's output is printed whole when it ends. Last the deployment test, alone.
test: lint
	$(MAKE) --no-print-directory -j $(words typecheck pytest $(VERSION_LANES)) --output-sync=target \
		typecheck pytest $(addprefix version-,$(VERSION_LANES))
	$(MAKE) --no-print-directory deployment

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite on every core plus one (pytest-xdist; each worker has its own Airflow home and metadata
# database): the extra worker runs while the others wait on simulated latency and limits. All but the
# deployment test, which starts Airflow's own processes and runs alone (`make deployment`).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal --ignore=$(DEPLOYMENT_TEST) $(PYTEST_ARGS)

deployment: $(STAMP)
	$(BIN)/python -m pytest $(DEPLOYMENT_TEST) $(PYTEST_ARGS)

# The version lane: every other supported Airflow minor version, each in its own venv from its own
# constraints file (constraints/airflow-<minor>.txt): the demo, the unit tests and tests/e2e/test_version_lane.py
# (each operator and sensor through dag.test(), the connection form and a connection saved through it).
VERSION_LANES := 3.1 3.2
AIRFLOW_3.1 := 3.1.8
AIRFLOW_3.2 := 3.2.2

# The lanes alone, side by side (each is one process at a time), their output kept apart.
versions: $(addprefix .venv-airflow-,$(addsuffix /.installed,$(VERSION_LANES)))
	$(MAKE) --no-print-directory -j $(words $(VERSION_LANES)) --output-sync=target \
		$(addprefix version-,$(VERSION_LANES))

version-%: .venv-airflow-%/.installed
	HUBSPOT_ASSOC_DEMO_DIR=$(CURDIR)/.demo-airflow-$* nice -n 10 \
		.venv-airflow-$*/bin/python example_dags/run_demo.py
	nice -n 10 .venv-airflow-$*/bin/python -m pytest -p no:cacheprovider -q \
		tests/unit tests/e2e/test_version_lane.py

# The stamps are not intermediate files: keep them, so a second `make test` installs nothing.
.PRECIOUS: .venv-airflow-%/.installed
.venv-airflow-%/.installed: pyproject.toml constraints/airflow-%.txt
	@test -x .venv-airflow-$*/bin/python || $(PYTHON) -m venv .venv-airflow-$*
	.venv-airflow-$*/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	.venv-airflow-$*/bin/python -m pip install --quiet --disable-pip-version-check \
		-c constraints/airflow-$*.txt -e ".[dev]"
	@touch $@

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

# Re-resolve constraints/airflow-<minor>.txt for each version lane. Airflow's own constraints files
# are not on PyPI, so pip resolves the newest of everything; two caps keep dag.test() and the API
# server working: fastapi<0.137 and svcs<26.2 (newer ones break the in-process execution API of
# Airflow 3.2; 3.1 is resolved with the same caps).
lock-versions: $(addprefix lock-version-,$(VERSION_LANES))

lock-version-%:
	rm -rf .venv-lock-$* && $(PYTHON) -m venv .venv-lock-$*
	.venv-lock-$*/bin/python -m pip install --quiet --upgrade "pip==26.3"
	.venv-lock-$*/bin/python -m pip install --quiet "apache-airflow==$(AIRFLOW_$*)" \
		"fastapi<0.137" "svcs<26.2" -e ".[dev]"
	@mkdir -p constraints
	.venv-lock-$*/bin/python -m pip freeze --exclude-editable --exclude airflow-provider-hubspot-assoc \
		> constraints/airflow-$*.txt
	rm -rf .venv-lock-$*

clean:
	rm -rf $(VENV) .venv-airflow-* .demo .demo-airflow-* .airflow-test .pytest_cache .mypy_cache .ruff_cache
