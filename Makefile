# parksim — the two commands work on a fresh machine: each makes the virtual
# environment and installs the project (with its test extras) first.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp

.PHONY: run test test-all test-e2e test-slurm lint format bench clean

$(STAMP): pyproject.toml setup.py
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dashboard]'
	# bytecode of parksim's own modules, as a wheel install compiles it (an editable
	# install does not; with PYTHONDONTWRITEBYTECODE set nothing writes it later, and
	# every process compiles them again: about 0.2 s of each run's start)
	$(PY) -m compileall -q simulation agents markets experiments hydra_plugins
	touch $(STAMP)

## make run: the four-phase roadmap (orderly, efficiency, agency, mature) on the default
## park, three seeds each in parallel: the KPI table with 95 % CIs, the comparison figure
## and the money-flow figure (conf/figure/phase_comparison.yaml)
run: $(STAMP)
	$(VENV)/bin/parksim-figure figure=phase_comparison

## make test: lint, format check and the default test suite (slow tests deselected)
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

## make test-all: every test, including those marked slow
test-all: $(STAMP)
	$(PY) -m pytest -m ""

## make test-e2e: the wheel installed into a fresh venv and run outside the checkout,
## and every parksim/parksim-figure command of README.md (tiny horizon)
test-e2e: $(STAMP)
	$(PY) -m pytest -m slow tests/test_install.py tests/test_readme.py

## make test-slurm: a one-node SLURM cluster (installed with apt, root needed), sweeps through
## hydra/launcher=submitit_slurm compared byte for byte with joblib, a failing job reported
test-slurm: $(STAMP)
	PY=$(abspath $(PY)) .ci/slurm/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench: the benchmark scripts (figures printed, nothing asserted)
bench: $(STAMP)
	$(PY) benchmarks/bench_orderly_phase.py
	$(PY) benchmarks/bench_day_ahead.py
	$(PY) benchmarks/bench_shapley.py
	$(PY) benchmarks/bench_orderly_plan.py

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache .hypothesis
