# The commands of the README: run, test and dry-run. Each first makes the project's virtual
# environment in .venv (once; again only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
CORES ?= all
CONFIG ?= config/config.yaml

.PHONY: run test dry-run

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: the whole workflow on $(CONFIG) (default: the simulation), then the HTML report
run: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES) --configfile $(CONFIG) --rerun-incomplete
	$(VENV)/bin/snakemake --cores 1 --configfile $(CONFIG) --report results/report.html

## test: the test suite
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

## dry-run: list the jobs a run would do on $(CONFIG)
dry-run: $(STAMP)
	$(VENV)/bin/snakemake -n --configfile $(CONFIG)
