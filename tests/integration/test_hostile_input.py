"""SQL injection and oversized strings in every parameter of every operation of openapi.json.

Each query parameter, path segment and JSON body field of the portal prefix, in turn, gets
each hostile value while the others are valid (a scored tenant's id, a body the route accepts): the
answer is a 4xx naming the problem (never a 5xx), and a checksum of every table is the same afterwards;
or, for a body field that may hold any text, a 2xx that stored the value verbatim and wrote nothing else.
New routes are covered as soon as `make openapi` puts them in the document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import PROFILE_WEIGHTS, add_scored_tenants, api_event, call_api, request
from psycopg import sql
from reliability_report import record

from healthscore.api.routes import JWT_PREFIX
from healthscore.dal.connection import DbConnection

OPENAPI = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text())
HOSTILE = {
    "quote": "' OR '1'='1",
    "drop": "'; DROP TABLE tenant_health_scores; --",
    "union": "1 UNION SELECT usename, passwd FROM pg_shadow --",
    "stacked": "1; UPDATE organizations SET status = 'CHURNED'",
    "sleep": "1' AND pg_sleep(10) IS NULL --",
    "comment": "*/ OR 1=1 /*",
    "nul": "abc\x00def",
    "unicode": "\u02bc OR \u02bc1\u02bc=\u02bc1 \ufe63\ufe63 \U0001f4a5",  # look-alike quotes and dashes
    "100 kB": "A" * 100_000,
    "10k unicode": "é" * 10_000,
}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in OPENAPI["paths"].items():
        if path.startswith(JWT_PREFIX):
            for method, operation in methods.items():
                yield method.upper(), path.removeprefix(JWT_PREFIX), operation


def body_fields(operation: dict[str, Any]) -> list[str]:
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return sorted(schema.get("properties", {}))


TARGETS = [
    (method, path, location, name)
    for method, path, operation in operations()
    for location, name in [
        (p["in"], p["name"]) for p in operation.get("parameters", []) if p["in"] in ("path", "query")
    ]
    + [("body", field) for field in body_fields(operation)]
]


def checksum(conn: DbConnection) -> dict[str, str]:
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    ).fetchall()
    sums = {}
    for row in tables:
        query = sql.SQL("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS sum FROM {} t")
        sums[row["table_name"]] = conn.execute(query.format(sql.Identifier(row["table_name"]))).fetchall()[0]["sum"]
    return sums


def test_every_parameter_is_covered() -> None:
    assert len(TARGETS) >= 12  # the document of today has 13; a parser change must not make this vacuous
    assert {"cursor", "organizationId", "runId", "days", "metricType"} <= {name for *_, name in TARGETS}


PROFILE = {"priority": 10, "weights": PROFILE_WEIGHTS}


def valid_body(path: str) -> dict[str, Any]:
    """A body the route accepts, into which one field at a time gets a hostile value."""
    if path.endswith("/override"):
        expires_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        return {"riskLevel": "HIGH", "reason": "renewal call went badly", "expiresAt": expires_at}
    return dict(PROFILE)


def stored(path: str, path_values: dict[str, Any]) -> tuple[dict[str, Any] | None, set[str]]:
    """What a 2xx answer stored, read back through the API, and the tables the route may write."""
    if path.endswith("/override"):
        status, body = request("GET /scores/{organizationId}/overrides", path=path_values, roles="PLATFORM_ADMIN")
        assert status == 200
        return body["items"][0], {"risk_overrides", "tenant_latest_scores"}  # the override is in effect
    if path.endswith("/preview"):
        return None, set()  # a preview stores nothing
    status, body = request("GET /profiles", roles="PLATFORM_ADMIN")
    assert status == 200
    [profile] = [item for item in body["items"] if item["profileId"] == path_values["profileId"]]
    return profile, {"scoring_profiles", "scoring_profile_versions"}


@pytest.mark.parametrize(("method", "path", "location", "name"), TARGETS, ids=["-".join(t) for t in TARGETS])
def test_hostile_values_are_refused_and_change_nothing(
    conn: DbConnection, method: str, path: str, location: str, name: str
) -> None:
    org_id = add_scored_tenants(conn, 1)[0]
    run_id = conn.execute("SELECT run_id FROM tenant_health_scores LIMIT 1").fetchall()[0]["run_id"]
    valid = {"organizationId": str(org_id), "runId": run_id}
    template = next(op for m, p, op in operations() if (m, p) == (method, path))
    path_names = [p["name"] for p in template.get("parameters", []) if p["in"] == "path"]
    assert request("GET /profiles", roles="PLATFORM_ADMIN")[0] == 200  # seeds the default profile beforehand
    for label, value in HOSTILE.items():
        before = checksum(conn)
        path_values: dict[str, Any] = {n: valid.get(n, "x") for n in path_names}
        if location == "path":
            path_values[name] = value
            event = api_event(f"{method} {path}", path=path_values, roles="PLATFORM_ADMIN")
        elif location == "query":
            event = api_event(f"{method} {path}", path=path_values, query={name: value}, roles="PLATFORM_ADMIN")
        else:  # an otherwise valid body, so the answer is about this value and nothing else
            body = {**valid_body(path), name: value}
            event = api_event(f"{method} {path}", path=path_values, body=body, roles="PLATFORM_ADMIN")
        status, answer = call_api(event)
        stored_as_text = location == "body" and 200 <= status < 300
        refused = 400 <= status < 500
        record("hostile input", failures=int(not (stored_as_text or refused)), server_errors=int(status >= 500))
        if stored_as_text:
            document, writable = stored(path, path_values)
            assert document is None or document[name] == value, (label, document)  # stored verbatim
            changed = {table for table, sum_ in checksum(conn).items() if before[table] != sum_}
            assert changed <= writable, (label, changed)
            continue
        assert refused, (label, status, answer)
        assert answer["message"]
        if location == "body":
            assert name in {error["field"].split(".")[0] for error in answer.get("errors", [])}, (label, answer)
        assert len(value) < 1000 or value not in json.dumps(answer, ensure_ascii=False)  # a huge value is not echoed
        assert checksum(conn) == before, label
