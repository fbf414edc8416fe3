# Two commands on a fresh machine with Python 3.11+ and make:
#   make run   — install, migrate, serve on http://127.0.0.1:5000
#   make test  — install with test extras, lint, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint install install-test fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/timepulse db upgrade
	TIMEPULSE_DEV=$${TIMEPULSE_DEV:-1} $(BIN)/timepulse run

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

fuzz: install-test
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/security/test_fuzz.py tests/feeds/test_parse.py -p no:cacheprovider

bench: install-test
	$(BIN)/python -m bench.ingest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
