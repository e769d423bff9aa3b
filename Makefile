# Two commands: `make run` (the staged-provocation Monte Carlo, results and charts) and
# `make test` (the whole suite). Both create .venv with the newest Python >= 3.12 found.
SHELL := /bin/sh
VENV := .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/staged_provocation.yaml
N ?= 10000
SEED ?= 20240708

.PHONY: run test lint format bench golden clean

$(VENV)/.installed: pyproject.toml
	@PYTHON=$$(tools/find-python) || exit 1; \
	 if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$PYTHON"; "$$PYTHON" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,sensitivity,report,explore]'
	@touch $@

# The explorer's browser packages (Solara's page) from the npm registry, so the page works
# offline; without them it is blank on a machine without a public CDN. Its own stamp, so an
# existing .venv gets them too.
$(VENV)/.assets: $(VENV)/.installed
	$(PY) -m sim.explore.assets
	@touch $@

run: $(VENV)/.installed $(VENV)/.assets
	$(VENV)/bin/escalation run $(SCENARIO) -n $(N) --seed $(SEED)

test: $(VENV)/.installed $(VENV)/.assets
	$(VENV)/bin/ruff check sim tests bench tools
	$(VENV)/bin/ruff format --check sim tests bench tools
	$(VENV)/bin/mypy sim
	@# pytest exits 5 when it collects nothing: a suite that ran no test must not pass.
	@MPLBACKEND=Agg $(PY) -m pytest -q; rc=$$?; \
	 if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; exit $$rc

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check sim tests bench tools
	$(VENV)/bin/ruff format --check sim tests bench tools

format: $(VENV)/.installed
	$(VENV)/bin/ruff format sim tests bench tools
	$(VENV)/bin/ruff check --fix sim tests bench tools

# Rewrites tests/golden/ from the current model: review the diff, then commit it with the reason.
golden: $(VENV)/.installed
	$(PY) tools/golden.py

bench: $(VENV)/.installed
	$(PY) bench/bench_engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
