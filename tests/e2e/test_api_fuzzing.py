"""Schemathesis against the checked-in openapi.json, through `healthscore local serve` over real HTTP.

Every operation of the portal prefix is called with cases generated from its schema,
valid and invalid, with a token of each role: no answer may be a 5xx, and every answer
must conform to the document (status code declared, content type, body schema, headers).
FUZZ_API_EXAMPLES sets the cases per operation and role (`make test` a few, `make
check-reliability` many). Not fuzzed: the AWS_IAM prefix (the same operations behind a
SigV4 check, tests/e2e/test_local_iam_callers.py) and POST /calculate-all, since each
accepted call scores the whole fleet; its answers are covered by
tests/integration/test_api_actions.py and the security tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from local_serve import PREFIX, local_serve, mint, serve_environment
from psycopg.rows import dict_row
from reliability_report import record
from scored_fleet import seed_scored_fleet

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_API_EXAMPLES", "8"))
ROLES = ("CLIENT_SUCCESS", "PLATFORM_ADMIN")
# Methods the document does not declare never reach the API: no route matches (404, as API Gateway's HTTP
# API answers), or the local HTTP server refuses the method of a known path (405 in JSON, with Allow).
UNDECLARED_METHOD_STATUSES = {404, 405}

# A schema-valid request may still be refused with 400: an opaque `cursor` that this listing did not return
# cannot be told apart by its schema (the document declares 400 "a parameter that cannot be used").
# A schema-valid body may still be refused with 422: the rules the schema cannot express (weights summing
# exactly to 1, thresholds in order, an expiry in the future and at most 90 days ahead) are checked by the
# API, which names the field; the document declares that 422.
# Query parameters the document does not declare are ignored, as API Gateway passes them on: no negative
# cases made of extra parameters.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422"]}
        },
        "generation": {"allow-extra-parameters": False},
    }
)
schema = (
    schemathesis.openapi.from_path(OPENAPI, config=CONFIG)
    .include(path_regex=f"^{PREFIX}/")
    .exclude(method="POST", path=f"{PREFIX}/calculate-all")
)


@pytest.fixture(scope="module")
def served(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """(origin, {role: token}) of a `local serve` over a scored fleet of 40 tenants."""
    with psycopg.connect(module_database_url, autocommit=True, row_factory=dict_row) as conn:
        seed_scored_fleet(conn, 40, datetime.now(UTC))
    local_dir = tmp_path_factory.mktemp("serve")
    environment = serve_environment(module_database_url, local_dir)
    with local_serve(environment, local_dir / "serve.log") as base_url:
        yield base_url.removesuffix(PREFIX), {role: mint(role, environment) for role in ROLES}


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_answer_conforms_to_the_openapi_document(
    case: Any, role: str, served: tuple[str, dict[str, str]]
) -> None:
    origin, tokens = served
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    if case.method.upper() != case.operation.method.upper():
        status = case.call(base_url=origin, headers=headers).status_code
        record("API fuzzing", failures=int(status not in UNDECLARED_METHOD_STATUSES))
        assert status in UNDECLARED_METHOD_STATUSES
        return
    try:
        response = case.call_and_validate(base_url=origin, headers=headers)
    except Exception:
        record("API fuzzing", failures=1)
        raise
    record("API fuzzing", server_errors=int(response.status_code >= 500))
