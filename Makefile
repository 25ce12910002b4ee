# Everything runs from a project-local virtual environment, so a fresh machine needs only Python >= 3.11 and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data/cardiospike

.PHONY: run demo test lint bench install install-dev default-model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[fast]'
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev,train]'
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

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## bench: measure the default model: command-line and scoring speed, reading, nested-CV quality, the API, the live
## stream, hostile requests, the report, and a Parquet dataset scored on one machine and on Dask
bench: install-dev
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_speed.py
	$(BIN)/python benchmarks/bench_read.py
	$(BIN)/python benchmarks/bench_quality.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_batches.py
	$(BIN)/python benchmarks/bench_stream.py
	$(BIN)/python benchmarks/bench_hostile.py
	$(BIN)/python benchmarks/bench_report.py

## default-model: retrain the shipped model on train.csv (the command is recorded in its manifest)
default-model: install-dev
	$(BIN)/cardiospike train --data $(DATA)/train.csv --out src/cardiospike/default_model

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
