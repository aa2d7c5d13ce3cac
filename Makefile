# Two commands for a fresh machine: `make run` (the nightly pipeline, locally) and `make test`.
# Python 3.12 is what Lambda runs; .python-version selects it where pyenv manages Pythons.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TENANTS ?= 500
CONCURRENCY ?= 5

.PHONY: run test lint typecheck template pytest openapi bench clean rds-ca-bundle bandit check-reliability load lock chromium

$(BIN)/healthscore: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else "Python 3.12 is required (Lambda runs 3.12); set PYTHON=/path/to/python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	@touch $@

# One resolution, two files. constraints.txt: the runtime and the development packages resolved together
# (what .venv installs). layers/shared/requirements.lock: from it, the layer's packages pinned to the same
# versions with the hashes of every PyPI file of each (what the layer installs with --require-hashes, as
# aarch64 wheels). Run after adding a package to pyproject.toml or layers/shared/requirements.txt; versions
# already pinned stay unless `make lock UPGRADE=1`. tests/integration/test_layer_build.py fails when the
# built layer's versions differ from the tests'.
UV_COMPILE := $(BIN)/uv pip compile --quiet --python-version 3.12 $(if $(UPGRADE),--upgrade)
lock: $(BIN)/healthscore
	$(UV_COMPILE) pyproject.toml layers/shared/requirements.txt --extra dev \
		--python-platform x86_64-manylinux_2_28 --output-file constraints.txt
	cd layers/shared && ../../$(UV_COMPILE) requirements.txt --constraint ../../constraints.txt --generate-hashes \
		--python-platform aarch64-manylinux_2_28 --output-file requirements.lock

run: $(BIN)/healthscore
	$(BIN)/healthscore run nightly --tenants $(TENANTS) --concurrency $(CONCURRENCY)
	@echo 'next: source .venv/bin/activate (puts healthscore on PATH; or call .venv/bin/healthscore), then'
	@echo '  healthscore local serve &   # the API on 127.0.0.1:3000, the portal on 127.0.0.1:3001; B=$$(healthscore local url)'
	@echo '  TOKEN=$$(healthscore local token --role CLIENT_SUCCESS)   # README: A session against the local API'
	@echo '  open the Portal: URL that local serve prints, and sign in with: healthscore local token --role PLATFORM_ADMIN'

test: lint typecheck bandit template pytest

lint: $(BIN)/healthscore
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The handlers are checked one by one: each is a module named `app` outside any package.
typecheck: $(BIN)/healthscore
	$(BIN)/mypy
	$(BIN)/mypy tests bench
	for handler in functions/*/app.py; do $(BIN)/mypy "$$handler" || exit 1; done

# The AWS template: cfn-lint and `sam validate --lint` must report nothing, and `sam build` (no container:
# pip fetches the arm64 wheels from PyPI) must succeed; then the artifact's size is printed. It builds into
# its own folder, never .aws-sam/build: that build has no RDS CA bundle (ALLOW_NO_RDS_CA_BUNDLE), and a later
# `sam deploy` ships whatever .aws-sam/build holds.
# The venv's bin comes first on PATH so that SAM finds python3.12 and its pip.
TEMPLATE_BUILD_DIR := .local/template-check/build
SAM := PATH="$(CURDIR)/$(BIN):$$PATH" SAM_CLI_TELEMETRY=0 ALLOW_NO_RDS_CA_BUNDLE=1 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-1} $(BIN)/sam
template: $(BIN)/healthscore
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint
	$(SAM) build --build-dir $(TEMPLATE_BUILD_DIR)
	@du -sh $(TEMPLATE_BUILD_DIR)

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

pytest: $(BIN)/healthscore chromium
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest

# The browser tests (tests/browser) drive Debian's chromium through Playwright; a fresh machine (CI runs as
# root) gets it from apt. CHROMIUM=/path/to/chromium to use another build.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { apt-get update && apt-get install -y chromium; }

# Security lint of the shipped code and the development package; the skipped rules and their reasons are in pyproject.toml [tool.bandit].
bandit: $(BIN)/healthscore
	$(BIN)/bandit -q -c pyproject.toml -r layers/shared/healthscore dev/healthscore_dev functions

# The longer fuzzing, the faults, the connection budget and the load run, then one table of what they tried
# (cases, failures, 5xx, messages lost). 4 min 21 s measured on this 2-core machine (README: Measurements);
# not part of `make test`.
RELIABILITY_REPORT := .local/reliability/report.jsonl
check-reliability: $(BIN)/healthscore
	@mkdir -p .local/reliability && rm -f $(RELIABILITY_REPORT)
	-HEALTHSCORE_RELIABILITY_REPORT=$(CURDIR)/$(RELIABILITY_REPORT) FUZZ_MESSAGE_EXAMPLES=1000 FUZZ_API_EXAMPLES=60 \
		CONNECTION_BUDGET_TENANTS=1000 $(BIN)/pytest -q -p no:cacheprovider --basetemp=$(CURDIR)/.local/reliability/tmp --junitxml=.local/reliability/pytest.xml \
		tests/integration/test_message_fuzzing.py tests/e2e/test_api_fuzzing.py tests/integration/test_faults.py \
		tests/integration/test_hostile_input.py tests/integration/test_connection_budget.py \
		tests/e2e/test_no_secrets_in_logs.py tests/integration/test_scorer.py tests/integration/test_redrive_and_replay.py
	-HEALTHSCORE_RELIABILITY_REPORT=$(CURDIR)/$(RELIABILITY_REPORT) $(MAKE) --no-print-directory load
	$(BIN)/python tests/reliability/report.py $(RELIABILITY_REPORT) .local/reliability/pytest.xml

# Load: locust, 50 clients for 60 s over the read routes of `healthscore local serve` with 10,000 scored tenants
# (11,000 seeded: about 9 in 10 demo tenants are ACTIVE with users). Delete .local/load to reseed.
LOAD_TENANTS ?= 11000
LOAD_USERS ?= 50
LOAD_SECONDS ?= 60
load: $(BIN)/healthscore
	$(BIN)/python tests/reliability/load.py --tenants $(LOAD_TENANTS) --users $(LOAD_USERS) --seconds $(LOAD_SECONDS)

# Regenerates the checked-in OpenAPI document; tests/unit/test_api_contract.py fails when it drifts.
openapi: $(BIN)/healthscore
	$(BIN)/healthscore api openapi --output openapi.json

# Benchmarks: side-by-side ratios in one run, never timed assertions (docs/performance.md). On their own
# embedded PostgreSQL under .local/bench (seeded, COPY and set-based, when it holds another fleet) unless
# DATABASE_URL is set. `make bench TENANTS=100000` for another fleet; 10,000 by default (about 4 minutes).
# Prints one table and writes bench/results/latest.json.
BENCH_TENANTS ?= 10000
bench: $(BIN)/healthscore
	$(BIN)/healthscore bench --tenants $(if $(filter command line environment,$(origin TENANTS)),$(TENANTS),$(BENCH_TENANTS))

clean:
	rm -rf $(VENV) .local .aws-sam .pytest_cache .mypy_cache .ruff_cache
