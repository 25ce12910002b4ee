# Everything runs from a project-local virtual environment, so a fresh machine needs only Python >= 3.11 and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data/cardiospike

# Every install takes the versions of requirements/lock.txt (a constraints file: it pins whatever an install
# pulls in, so pip has nothing to resolve); `make lock` makes it anew from pyproject.toml.
LOCK := requirements/lock.txt
PIP_INSTALL := $(BIN)/python -m pip install -q -c $(LOCK)

.PHONY: help run demo test lint bench docs install install-dev lock default-model clean

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(LOCK)
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml $(LOCK)
	$(PIP_INSTALL) -e '.[dev,train]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: serve the web app and REST API with the shipped default model on http://127.0.0.1:8000
run: install
	$(BIN)/cardiospike serve

## demo: score a synthetic demo recording with the shipped model and print its episodes
demo: install
	$(BIN)/cardiospike demo

## test: lint, type-check and run the whole test suite
test: install-dev lint
	$(BIN)/python -m pytest

## lint: ruff (lint and format) and mypy, as pre-commit runs them (.pre-commit-config.yaml)
lint: install-dev
	$(BIN)/ruff check src tests benchmarks docs/generate.py
	$(BIN)/ruff format --check src tests benchmarks docs/generate.py
	$(BIN)/mypy

## bench: measure the default model: command-line and scoring speed, reading, nested-CV quality, the API, the live
## stream, hostile requests, the report, a Parquet dataset scored on one machine and on Dask, and a day of ECG
bench: install-dev
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_speed.py
	$(BIN)/python benchmarks/bench_read.py
	$(BIN)/python benchmarks/bench_quality.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_batches.py
	$(BIN)/python benchmarks/bench_ecg.py day
	$(BIN)/python benchmarks/bench_stream.py
	$(BIN)/python benchmarks/bench_hostile.py
	$(BIN)/python benchmarks/bench_report.py

## docs: write the generated pages of docs/reference/: the Python API from its docstrings, the REST API from the
## app's OpenAPI schema (a test fails while the committed pages differ from what this writes)
docs: install
	$(BIN)/python docs/generate.py

## default-model: retrain the shipped model on train.csv (the command is recorded in its manifest)
default-model: install-dev
	$(BIN)/cardiospike train --data $(DATA)/train.csv --out src/cardiospike/default_model

## lock: resolve pyproject.toml's dependencies (dev and train, which hold every extra but the dashboard) afresh in a
## throw-away environment and pin them in requirements/lock.txt
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip
	.lock-venv/bin/python -m pip install -q '.[dev,train]'
	{ echo "# Pinned from pyproject.toml (every extra but dashboard): the constraints of every install (make lock renews it)."; \
	  .lock-venv/bin/python -m pip freeze --exclude cardiospike; } > $(LOCK)
	rm -rf .lock-venv

## clean: remove the virtual environment and build outputs
clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
