# Two commands for a fresh machine: `make run` (the nightly pipeline, locally) and `make test`.
# Python 3.12 is what Lambda runs; .python-version selects it where pyenv manages Pythons.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TENANTS ?= 500
CONCURRENCY ?= 5

.PHONY: run test lint typecheck cfn-lint pytest openapi bench clean

$(BIN)/healthscore: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else "Python 3.12 is required (Lambda runs 3.12); set PYTHON=/path/to/python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	@touch $@

run: $(BIN)/healthscore
	$(BIN)/healthscore run nightly --tenants $(TENANTS) --concurrency $(CONCURRENCY)

test: lint typecheck cfn-lint pytest

lint: $(BIN)/healthscore
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/healthscore
	$(BIN)/mypy

cfn-lint: $(BIN)/healthscore
	$(BIN)/cfn-lint template.yaml

pytest: $(BIN)/healthscore
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .local .aws-sam .pytest_cache .mypy_cache .ruff_cache
