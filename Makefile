# Two commands for a fresh machine: `make run` (the nightly pipeline, locally) and `make test`.
# Python 3.12 is what Lambda runs; .python-version selects it where pyenv manages Pythons.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TENANTS ?= 500
CONCURRENCY ?= 5

.PHONY: run test lint typecheck template pytest openapi bench clean rds-ca-bundle

$(BIN)/healthscore: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else "Python 3.12 is required (Lambda runs 3.12); set PYTHON=/path/to/python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	@touch $@

run: $(BIN)/healthscore
	$(BIN)/healthscore run nightly --tenants $(TENANTS) --concurrency $(CONCURRENCY)

test: lint typecheck template pytest

lint: $(BIN)/healthscore
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The handlers are checked one by one: each is a module named `app` outside any package.
typecheck: $(BIN)/healthscore
	$(BIN)/mypy
	$(BIN)/mypy tests bench
	for handler in functions/*/app.py; do $(BIN)/mypy "$$handler" || exit 1; done

# The AWS template: cfn-lint and `sam validate --lint` must report nothing, and `sam build` (no container:
# pip fetches the arm64 wheels from PyPI) must succeed; then the artifact's size is printed.
# The venv's bin comes first on PATH so that SAM finds python3.12 and its pip.
SAM := PATH="$(CURDIR)/$(BIN):$$PATH" SAM_CLI_TELEMETRY=0 ALLOW_NO_RDS_CA_BUNDLE=1 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-1} $(BIN)/sam
template: $(BIN)/healthscore
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint
	$(SAM) build
	@du -sh .aws-sam/build

# The CA bundle the layer ships for verify-full TLS (layers/shared/Makefile): AWS's global RDS CA
# bundle (database instances) plus Amazon Root CA 1 (RDS Proxy endpoints present ACM certificates).
# Run before `sam build` for a deploy; it needs internet access. See docs/deploy.md.
RDS_CA_BUNDLE_URL := https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
AMAZON_ROOT_CA_URL := https://www.amazontrust.com/repository/AmazonRootCA1.pem
rds-ca-bundle:
	mkdir -p layers/shared/certs
	curl --fail --silent --show-error --location $(RDS_CA_BUNDLE_URL) -o layers/shared/certs/rds-global-bundle.pem.tmp
	echo >> layers/shared/certs/rds-global-bundle.pem.tmp
	curl --fail --silent --show-error --location $(AMAZON_ROOT_CA_URL) >> layers/shared/certs/rds-global-bundle.pem.tmp
	mv layers/shared/certs/rds-global-bundle.pem.tmp layers/shared/certs/rds-global-bundle.pem
	@grep -c 'BEGIN CERTIFICATE' layers/shared/certs/rds-global-bundle.pem | sed 's/^/certificates in the bundle: /'

pytest: $(BIN)/healthscore
	$(BIN)/pytest

# Regenerates the checked-in OpenAPI document; tests/unit/test_api_contract.py fails when it drifts.
openapi: $(BIN)/healthscore
	$(BIN)/healthscore api openapi --output openapi.json

# Benchmarks: side-by-side ratios in one run, never timed assertions. They use their own embedded
# PostgreSQL under .local/bench (seeded on first use) unless DATABASE_URL is set; about 2 minutes in all.
BENCH_TENANTS ?= 2000
bench: $(BIN)/healthscore
	$(BIN)/python bench/scoring_batch.py --tenants $(BENCH_TENANTS)
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/local_pipeline.py --tenants $(BENCH_TENANTS)

clean:
	rm -rf $(VENV) .local .aws-sam .pytest_cache .mypy_cache .ruff_cache
