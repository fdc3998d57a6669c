# `make demo` and `make test` work on a fresh machine: each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch comes first and pinned: an unpinned torch would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: install dev demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

# every model of the toolkit on the 5,000 MNIST digits; writes runs/demo/report.html
demo: install
	$(BIN)/aekit demo --out runs/demo

test: dev
	$(BIN)/python -m pytest

# the linter CI runs before the tests (configuration in pyproject.toml)
lint: dev
	$(BIN)/ruff check src tests bench examples

clean:
	rm -rf $(VENV) runs build src/*.egg-info
