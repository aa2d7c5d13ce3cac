"""Hypothesis-made SQS bodies, mixed with good records, through the real scorer handler.

Whatever a bad body holds (not JSON, random JSON, wrong types, huge strings, unicode, SQL
fragments, impossible dates, missing or extra fields), the handler must not raise and must
not fail the batch: each bad record goes to the dead-letter queue with its PoisonReason, and
each good record of the same batch is scored. Good records carry SQL fragments in their
runId, stored verbatim. FUZZ_MESSAGE_EXAMPLES sets the number of batches (`make test`
runs a few, `make check-reliability` many).
"""

from __future__ import annotations

import itertools
import json
import os
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from handlers import lambda_context, load_handler
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pipeline_support import add_scorable_tenant, drain, sqs_event
from pydantic import ValidationError
from reliability_report import record

from healthscore.dal.connection import DbConnection
from healthscore.models.messages import ScoringMessage
from healthscore_dev.local.sqs_server import LocalQueues

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
EXAMPLES = int(os.environ.get("FUZZ_MESSAGE_EXAMPLES", "40"))
FIELDS = ("type", "organizationId", "asOf", "runId")
KNOWN_KEYS = {*FIELDS, "organization_id", "as_of", "run_id"}  # names the model also accepts
SQL = [
    "'; DROP TABLE tenant_health_scores; --",
    "' OR '1'='1",
    "1; UPDATE organizations SET status = 'CHURNED'",
    "' UNION SELECT password FROM pg_shadow --",
    "$$; SELECT pg_sleep(30); $$",
    "\\'; TRUNCATE users; --",
]
IMPOSSIBLE_DATES = [
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-11-28T25:61:00Z",
    "0000-01-01T00:00:00Z",
    "99999-01-01T00:00:00Z",
    "2026-11-28T02:00:00",  # no time zone: the contract wants UTC
    "2026-11-28T02:00:00+25:00",
    "yesterday",
    "",
]

# Characters SQS accepts in a body (no control characters but tab/newline, no lone surrogates).
sqs_char = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r")
text = st.text(sqs_char, max_size=40)
huge = st.builds(lambda char, n: char * n, sqs_char, st.integers(1_000, 50_000))  # at most 200 kB of UTF-8
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
)
hostile_strings = text | huge | st.sampled_from(SQL) | st.sampled_from(IMPOSSIBLE_DATES)
bad_values = {
    "type": json_values | hostile_strings,
    "organizationId": json_values | hostile_strings | st.uuids().map(lambda u: str(u)[:-1]),
    "asOf": hostile_strings | st.sampled_from(IMPOSSIBLE_DATES) | st.lists(st.integers(), max_size=3),
    "runId": st.just("") | st.text(sqs_char, min_size=129, max_size=300) | st.lists(text, max_size=2) | st.none(),
}


def good_message(org_id: UUID, run_id: str) -> dict[str, Any]:
    return {"type": "calculate-score", "organizationId": str(org_id), "asOf": AS_OF.isoformat(), "runId": run_id}


def is_valid(body: str) -> bool:
    try:
        ScoringMessage.model_validate_json(body)
    except ValidationError:
        return False
    return True


@st.composite
def bad_body(draw: st.DrawFn) -> str:
    template = good_message(UUID("2f8f4b1e-0c1d-4d57-9f7a-0d9e1c7b6a55"), "run-fuzz")
    kind = draw(st.sampled_from(["not json", "random json", "wrong value", "missing field", "extra field"]))
    if kind == "not json":
        body = draw(hostile_strings.filter(lambda s: not _parses(s)))
    elif kind == "random json":
        body = json.dumps(draw(json_values), ensure_ascii=draw(st.booleans()))
    elif kind == "wrong value":
        name = draw(st.sampled_from(FIELDS))
        body = json.dumps({**template, name: draw(bad_values[name])}, ensure_ascii=False)
        if name != "runId":  # a random type, id or time may happen to be right; a runId of these values never is
            assume(not is_valid(body))
            return body
    elif kind == "missing field":
        gone = draw(st.sampled_from(FIELDS))
        body = json.dumps({k: v for k, v in template.items() if k != gone})
    else:
        extra = draw(st.dictionaries(text.filter(lambda k: k not in KNOWN_KEYS), json_values, min_size=1, max_size=3))
        body = json.dumps({**template, **extra}, ensure_ascii=False)
    assert not is_valid(body), body  # bad by contract: the model must refuse it, not the test throw it away
    return body


def _parses(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


@pytest.fixture
def tenants(conn: DbConnection) -> list[UUID]:
    return [add_scorable_tenant(conn, AS_OF) for _ in range(6)]


_runs = itertools.count()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_bad_bodies_go_to_the_dead_letter_queue_with_their_reason_and_the_good_ones_are_scored(
    data: st.DataObject, conn: DbConnection, queues: LocalQueues, tenants: list[UUID]
) -> None:
    run_id = f"fuzz-{next(_runs)}-{data.draw(st.sampled_from(SQL))}"
    good = data.draw(st.lists(st.sampled_from(tenants), min_size=1, max_size=4, unique=True), label="good tenants")
    bad = data.draw(st.lists(bad_body(), min_size=1, max_size=6), label="bad bodies")
    bodies = data.draw(st.permutations([json.dumps(good_message(org, run_id)) for org in good] + bad), label="batch")
    event = sqs_event(bodies)
    bad_ids = {r["messageId"]: r["body"] for r in event["Records"] if not is_valid(r["body"])}

    answer = load_handler("scorer").lambda_handler(event, lambda_context())

    dead = {m["MessageAttributes"]["SourceMessageId"]["StringValue"]: m for m in drain(queues.dead_letter_queue_url)}
    rows = conn.execute("SELECT organization_id FROM tenant_health_scores WHERE run_id = %s", (run_id,)).fetchall()
    scored = {row["organization_id"] for row in rows}
    lost = len(set(bad_ids) - set(dead)) + len(set(good) - scored)
    record("message fuzzing", cases=len(bodies), lost=lost, failures=len(answer["batchItemFailures"]))
    assert answer == {"batchItemFailures": []}
    assert set(dead) == set(bad_ids)
    for message_id, message in dead.items():
        assert message["Body"] == bad_ids[message_id]
        assert message["MessageAttributes"]["PoisonReason"]["StringValue"].strip()
    assert scored == set(good)
