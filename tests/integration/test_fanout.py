"""The fan-out handler over several keyset pages, against a real queue and database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import add_org
from handlers import lambda_context, load_handler
from pipeline_support import drain

from healthscore.dal.connection import DbConnection
from healthscore.local.sqs_server import LocalQueues
from healthscore.logic import fanout


def test_enqueues_each_active_tenant_exactly_once_over_several_pages(
    conn: DbConnection, queues: LocalQueues, events_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    active = {add_org(conn) for _ in range(203)}
    for status in ("SUSPENDED", "CHURNED"):
        for _ in range(15):
            add_org(conn, status=status)
    monkeypatch.setattr(fanout, "PAGE_SIZE", 25)  # 203 tenants: 9 keyset pages, the last one short
    event = json.loads((events_dir / "schedule_calculate_scores.json").read_text())
    as_of = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    event["asOf"] = as_of.isoformat()

    answer = load_handler("fanout").lambda_handler(event, lambda_context())

    bodies = [json.loads(m["Body"]) for m in drain(queues.scoring_queue_url)]
    assert sorted(b["organizationId"] for b in bodies) == sorted(str(org) for org in active)
    assert {b["runId"] for b in bodies} == {answer["runId"]}
    assert {b["asOf"] for b in bodies} == {"2026-11-28T02:00:00Z"}
    assert {b["type"] for b in bodies} == {"calculate-score"}
    assert answer["tenantCount"] == 203
    run = conn.execute("SELECT job, as_of, tenant_count FROM scoring_runs WHERE run_id = %s", (answer["runId"],))
    assert run.fetchone() == {"job": "calculate-scores", "as_of": as_of, "tenant_count": 203}


def test_record_metrics_schedule_enqueues_record_metrics_messages(
    conn: DbConnection, queues: LocalQueues, events_dir: Path
) -> None:
    add_org(conn)
    event = json.loads((events_dir / "schedule_record_metrics.json").read_text())
    load_handler("fanout").lambda_handler(event, lambda_context())
    [message] = drain(queues.scoring_queue_url)
    assert json.loads(message["Body"])["type"] == "record-metrics"


def test_a_bad_schedule_input_fails_loudly_naming_the_field(conn: DbConnection, queues: LocalQueues) -> None:
    handler = load_handler("fanout").lambda_handler
    with pytest.raises(ValueError, match="job"):
        handler({"job": "calculate-everything"}, lambda_context())
    assert drain(queues.scoring_queue_url) == []


def test_tenants_that_cannot_be_enqueued_fail_the_run_loudly(
    conn: DbConnection, queues: LocalQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_org(conn)
    monkeypatch.setenv("SCORING_QUEUE_URL", queues.scoring_queue_url + "-does-not-exist")
    from healthscore.config import get_settings

    get_settings.cache_clear()
    with pytest.raises(Exception, match=r"NonExistentQueue|does not exist"):
        load_handler("fanout").lambda_handler({"job": "calculate-scores"}, lambda_context())
