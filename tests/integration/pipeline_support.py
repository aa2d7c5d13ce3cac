"""Helpers of the pipeline tests: tenants, SQS events from events/, queue reads."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from factories import add_case, add_feature, add_org, add_users
from handlers import load_handler

from healthscore.aws.clients import sqs_client
from healthscore.dal.connection import DbConnection
from healthscore_dev.local.event_source import LocalEventSource
from healthscore_dev.local.pipeline import queue_is_empty
from healthscore_dev.local.sqs_server import LocalQueues

EVENTS = Path(__file__).resolve().parents[2] / "events"


def add_scorable_tenant(conn: DbConnection, as_of: datetime, *, active: int = 7, total: int = 10, **org: Any) -> UUID:
    """An ACTIVE tenant with users, a case and a feature: every component has data."""
    org_id = add_org(conn, **org)
    recent = as_of - timedelta(days=1)
    add_users(conn, org_id, [recent] * active + [None] * (total - active))
    add_case(conn, org_id, closed_at=recent, sla_breach_at=as_of)
    add_feature(conn, org_id, "reports", enabled=True, is_used=True)
    return org_id


def message_body(org_id: UUID | str, as_of: datetime, run_id: str = "run-test", kind: str = "calculate-score") -> str:
    return json.dumps({"type": kind, "organizationId": str(org_id), "asOf": as_of.isoformat(), "runId": run_id})


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    """An SQS event in the shape of events/sqs_scoring_batch.json, one record per body."""
    template = json.loads((EVENTS / "sqs_scoring_batch.json").read_text())["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid4())
        record["body"] = body
        records.append(record)
    return {"Records": records}


def published(target_url: str) -> list[dict[str, Any]]:
    """The events that reached the `risk_events` fixture's queue since the last call."""
    return [json.loads(message["Body"]) for message in drain(target_url)]


# A few dozen messages take seconds; far more than a loaded machine needs, far less than a hung CI job.
DRAIN_TIMEOUT_SECONDS = 120


def drain_through_scorer(queues: LocalQueues) -> LocalEventSource:
    """Work the scoring queue through the real scorer handler until it is empty."""
    scorer = load_handler("scorer").lambda_handler
    source = LocalEventSource(
        queues.scoring_queue_url,
        lambda _environment: scorer,
        function_name="ScorerFunction",
        batch_size=queues.settings.batch_size,
        max_concurrency=2,
        retry_delay_seconds=0,
    )
    source.run(until=lambda: queue_is_empty(queues.scoring_queue_url), timeout_seconds=DRAIN_TIMEOUT_SECONDS)
    return source


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Receive (and delete) every message currently visible on a queue."""
    messages: list[dict[str, Any]] = []
    while True:
        got = (
            sqs_client()
            .receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
            )
            .get("Messages", [])
        )
        if not got:
            return messages
        for message in got:
            messages.append(dict(message))
            sqs_client().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
