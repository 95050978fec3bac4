# lindiff — two commands from a fresh clone:
#   make run    set up .venv if needed, then run the default sweep (snakemake --cores 2)
#   make test   set up .venv if needed, then run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CORES  ?= 2
PYTEST_ARGS ?=
# test files run on this many worker processes (pytest-xdist; each file stays on one worker, so
# the end-to-end runs it shares between its tests run once); 0 runs everything in this process
TEST_WORKERS ?= 2
# MNIST for `make paper`: a directory with the four IDX files; empty = download into the cache
MNIST_DIR ?= $(LINDIFF_MNIST_DIR)

.PHONY: setup run test test-slurm paper report demo bench bench-samplers lint clean distclean

setup: $(STAMP)

# Re-install whenever the dependency list changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "lindiff needs Python >= 3.11 (set PYTHON=/path/to/python3.x)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[all,test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	@echo
	@echo "Figures and tables: results/sweeps/default/ (cross-sweep) and results/digits/ (per point)"
	@echo "W&B offline runs:   results/wandb/  (upload later with: wandb sync <offline run dir>)"
	@echo "HTML report:        make report  ->  results/report.html"

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The smoke sweep on a real one-node SLURM cluster (root; apt-get installs slurm-wlm + munge if
# missing; starts/stops munged, slurmctld, slurmd on 127.0.0.1). LINDIFF_SKIP_SLURM=1 skips it.
test-slurm: $(STAMP)
	$(BIN)/python -m pytest tests/workflow/test_slurm.py -v -rs $(PYTEST_ARGS)

paper: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --config overrides="sweep=paper data=mnist \
		$(if $(MNIST_DIR),data.dir=$(MNIST_DIR),data.download=true)"

report: $(STAMP)
	$(BIN)/snakemake --report results/report.html

demo: $(STAMP)
	$(BIN)/python -m lindiff.studies.demo --out results/demo

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_learn.py

# closed form, schedule design and Monte Carlo of the samplers (issue 15)
bench-samplers: $(STAMP)
	$(BIN)/python benchmarks/bench_samplers.py

# ruff (Python), snakefmt (Snakefile and rules), snakemake --lint (the workflow); settings in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

clean:
	find results -mindepth 1 -maxdepth 1 ! -name .gitkeep ! -name README.md -exec rm -rf {} +
	rm -rf .snakemake

distclean: clean
	rm -rf $(VENV) *.egg-info .pytest_cache
