# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/fieldlog demo
	$(BIN)/fieldlog serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check incidents api projections tests bench
	$(BIN)/ruff format --check incidents api projections tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
