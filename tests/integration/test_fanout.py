"""The fan-out handler over several keyset pages, against a real queue and database."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from factories import add_org
from handlers import lambda_context, load_handler
from pipeline_support import drain

from healthscore.aws.clients import sqs_client
from healthscore.dal.connection import DbConnection
from healthscore.logic import fanout
from healthscore.logic.enqueue import EnqueueError
from healthscore_dev.local.sqs_server import LocalQueues


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
    with pytest.raises(EnqueueError, match="could not be enqueued") as failure:
        load_handler("fanout").lambda_handler({"job": "calculate-scores"}, lambda_context())
    assert len(failure.value.failed) == 1
    assert failure.value.failed[0][1].startswith("QueueDoesNotExist")  # SQS refused it, nothing else failed


def test_a_retry_of_the_same_scheduled_event_is_the_same_run(
    conn: DbConnection, queues: LocalQueues, events_dir: Path
) -> None:
    add_org(conn)
    event = json.loads((events_dir / "schedule_calculate_scores.json").read_text())  # asOf: the scheduled time
    handler = load_handler("fanout").lambda_handler
    # The first attempt dies after its sends, before it marks the run enqueued (as a Lambda timeout would):
    # only the ledger knows what it sent.
    conn.execute(DIE_AT_FINISH)
    with pytest.raises(psycopg.errors.RaiseException, match="attempt died"):
        handler(event, lambda_context())
    conn.execute("DROP TRIGGER die_at_finish ON scoring_runs")
    assert conn.execute("SELECT count(*) AS n FROM run_enqueued_tenants").fetchone() == {"n": 1}

    again = handler(event, lambda_context())  # Lambda's async retry, or the scheduler's
    assert again["runId"] == "calculate-scores-20261128T020000Z"
    assert (again["enqueuedNow"], again["tenantCount"]) == (0, 1)  # the ledger's tenant is not sent twice
    assert handler(event, lambda_context())["enqueuedNow"] == 0  # a retry after the run completed
    assert len(drain(queues.scoring_queue_url)) == 1
    assert conn.execute("SELECT count(*) AS n FROM scoring_runs").fetchone() == {"n": 1}
    assert conn.execute("SELECT count(*) AS n FROM run_enqueued_tenants").fetchone() == {"n": 0}  # ledger dropped


DIE_AT_FINISH = """
CREATE FUNCTION die_at_finish() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'attempt died'; END $$;
CREATE TRIGGER die_at_finish BEFORE UPDATE OF enqueued_at ON scoring_runs
FOR EACH ROW WHEN (NEW.enqueued_at IS NOT NULL) EXECUTE FUNCTION die_at_finish();
"""


def test_a_rerun_after_sends_failed_partway_enqueues_only_the_missing_tenants(
    conn: DbConnection, queues: LocalQueues, events_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenants = {add_org(conn) for _ in range(45)}
    monkeypatch.setattr(fanout, "PAGE_SIZE", 20)  # three pages: 20, 20, 5
    event = json.loads((events_dir / "schedule_calculate_scores.json").read_text())
    handler = load_handler("fanout").lambda_handler
    calls = itertools.count()
    lock = threading.Lock()

    def fail_after_three_calls(params: dict[str, Any], **_: Any) -> None:
        with lock:  # the fan-out sends batches from several threads
            if next(calls) >= 3:
                params["QueueUrl"] = queues.scoring_queue_url + "-gone"  # SQS answers QueueDoesNotExist

    events = sqs_client().meta.events
    events.register("before-parameter-build.sqs.SendMessageBatch", fail_after_three_calls)
    try:
        with pytest.raises(EnqueueError, match=r"15 message\(s\) could not|could not be enqueued") as failure:
            handler(event, lambda_context())
    finally:
        events.unregister("before-parameter-build.sqs.SendMessageBatch", fail_after_three_calls)
    assert len(failure.value.failed) == 45 - 30  # three batches of ten went through
    run_id = "calculate-scores-20261128T020000Z"
    run = conn.execute("SELECT tenant_count, enqueued_at FROM scoring_runs WHERE run_id = %s", (run_id,)).fetchone()
    assert run == {"tenant_count": 45, "enqueued_at": None}  # pending, not "done"

    answer = handler(event, lambda_context())  # the same job and asOf: the same run

    assert (answer["runId"], answer["tenantCount"], answer["enqueuedNow"]) == (run_id, 45, 15)
    bodies = [json.loads(m["Body"]) for m in drain(queues.scoring_queue_url)]
    assert sorted(b["organizationId"] for b in bodies) == sorted(str(org) for org in tenants)  # each exactly once
    assert {b["runId"] for b in bodies} == {run_id}
    assert handler(event, lambda_context())["enqueuedNow"] == 0
    assert drain(queues.scoring_queue_url) == []
