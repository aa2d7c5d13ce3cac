"""A message that keeps failing is redriven to the dead-letter queue; `dlq replay` brings it back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from database_faults import database_refusing_connections
from pipeline_support import (
    add_scorable_tenant,
    drain,
    drain_through_scorer,
    message_body,
)

from healthscore.aws.clients import sqs_client
from healthscore.dal.connection import DbConnection
from healthscore_dev.cli.main import main
from healthscore_dev.local.pipeline import queue_is_empty
from healthscore_dev.local.sqs_server import LocalQueues

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def test_five_failures_redrive_to_the_dead_letter_queue_and_replay_scores_it_once(
    conn: DbConnection,
    queues: LocalQueues,
    database_url: str,
    pg_admin_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = add_scorable_tenant(conn, AS_OF)
    sqs_client().send_message(QueueUrl=queues.scoring_queue_url, MessageBody=message_body(org, AS_OF, "run-1"))

    with database_refusing_connections(pg_admin_url, database_url, keep=conn):
        failing = drain_through_scorer(queues)
    assert failing.stats.returned == queues.settings.max_receive_count == 15
    assert failing.stats.deleted == 0
    capsys.readouterr()  # the handlers' own log and metric lines

    assert main(["dlq", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["count"] == 1
    [dead] = listing["messages"]
    assert dead["organizationId"] == str(org)
    assert dead["type"] == "calculate-score"
    assert dead["reason"] == "failed maxReceiveCount times (redriven by SQS)"
    assert dead["receiveCount"] >= 5

    assert main(["dlq", "replay", "--tenant", str(org), "--dry-run"]) == 0
    assert "would replay 1 message(s)" in capsys.readouterr().out
    assert main(["dlq", "replay", "--tenant", str(org)]) == 0
    assert "replayed 1 message(s)" in capsys.readouterr().out

    replay = drain_through_scorer(queues)
    assert replay.stats.deleted == 1
    capsys.readouterr()
    rows = conn.execute("SELECT score_date, run_id FROM tenant_health_scores WHERE organization_id = %s", (org,))
    assert rows.fetchall() == [{"score_date": AS_OF.date(), "run_id": "run-1"}]  # the original window, once
    assert main(["dlq", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0


def test_replay_filters_and_keeps_poison_messages(
    conn: DbConnection, queues: LocalQueues, capsys: pytest.CaptureFixture[str]
) -> None:
    org_a, org_b = add_scorable_tenant(conn, AS_OF), add_scorable_tenant(conn, AS_OF)
    for body in (message_body(org_a, AS_OF), message_body(org_b, AS_OF, kind="record-metrics"), "garbage"):
        sqs_client().send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody=body)

    assert main(["dlq", "replay", "--type", "record-metrics"]) == 0
    [moved] = [json.loads(m["Body"]) for m in drain(queues.scoring_queue_url)]
    assert moved["organizationId"] == str(org_b)

    capsys.readouterr()
    before_replay = datetime.now(UTC)
    assert main(["dlq", "replay", "--now"]) == 0
    out = capsys.readouterr().out
    # The poison message is still there, and the count says so.
    assert "replayed 1 message(s); 1 left in the dead-letter queue" in out
    assert "1 matching poison message(s) kept" in out
    [moved] = [json.loads(m["Body"]) for m in drain(queues.scoring_queue_url)]
    assert moved["organizationId"] == str(org_a)
    assert datetime.fromisoformat(moved["asOf"]) >= before_replay  # --now: a new window, not the original AS_OF

    assert main(["dlq", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["messages"][0]["organizationId"] is None  # only the poison is left


def test_purge_needs_confirmation_and_a_second_one_within_60_s_says_to_wait(
    queues: LocalQueues, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs_client().send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody="garbage")
    assert main(["dlq", "purge"]) == 2  # no terminal to confirm on
    assert "refusing without --yes" in capsys.readouterr().err
    assert main(["dlq", "purge", "--yes"]) == 0
    assert queue_is_empty(queues.dead_letter_queue_url)

    assert main(["dlq", "purge", "--yes"]) == 1  # SQS's PurgeQueueInProgress, in words
    err = capsys.readouterr().err
    assert "was purged less than 60 s ago" in err
    assert "wait 60 s and run it again" in err
    assert "PurgeQueueInProgress" not in err


def test_replay_refuses_a_tenant_that_is_not_an_organization_id(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["dlq", "replay", "--tenant", "abc"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: healthscore dlq replay")
    assert "argument --tenant: not an organization id (a UUID): 'abc'" in err
