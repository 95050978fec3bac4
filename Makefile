# lindiff — two commands from a fresh clone:
#   make run    set up .venv if needed, then run the main job
#   make test   set up .venv if needed, then run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup run test bench clean distclean

setup: $(STAMP)

# Re-install whenever the dependency list changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
		|| { echo "lindiff needs Python >= 3.10 (set PYTHON=/path/to/python3.x)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m lindiff.demo --out results/demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_learn.py

clean:
	find results -mindepth 1 ! -name .gitkeep ! -name README.md -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info .pytest_cache
