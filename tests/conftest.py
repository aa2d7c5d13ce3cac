"""Shared fixtures: a real PostgreSQL (embedded pgserver, or the server of DATABASE_URL).

One server per test session; the schema is migrated once into a template database
and every test gets a fresh copy of it (CREATE DATABASE ... TEMPLATE, ~0.1 s). Database names
carry the session's tag, so two sessions on one server (DATABASE_URL) never share one.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import boto3
import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from psycopg import sql
from psycopg.rows import dict_row

from healthscore.aws.clients import reset_clients
from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection, reset_connection
from healthscore.dal.migrate import migrate
from healthscore_dev.local.embedded_db import ensure_database, start_embedded_server, stop_embedded_servers
from healthscore_dev.local.lambda_context import use_local_powertools
from healthscore_dev.local.sqs_server import LocalQueues, create_queues, start_moto_server, use_local_credentials
from healthscore_dev.local.template_settings import queue_settings

SESSION_TAG = f"{os.getpid()}_{uuid4().hex[:8]}"
TEMPLATE_DB = f"healthscore_test_template_{SESSION_TAG}"
_counter = itertools.count()

# Hypothesis' 200 ms deadline per example fails pure tests on a loaded machine; pytest-timeout catches hangs.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """Admin URL of the session's server: DATABASE_URL's, or an embedded one.

    The embedded one's data is in a folder of its own, not under pytest's basetemp: run as root, pgserver
    runs PostgreSQL as another user, and any other pytest session starting on the machine takes that user's
    access to `pytest-of-root` away again (the server then stops, mid-session).
    """
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    data = Path(tempfile.mkdtemp(prefix="healthscore-test-pg-"))
    try:
        yield start_embedded_server(data / "data")
    finally:
        stop_embedded_servers()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str) -> Iterator[str]:
    url = ensure_database(pg_admin_url, TEMPLATE_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE_DB)))


@contextmanager
def fresh_database(pg_admin_url: str) -> Iterator[str]:
    """A new copy of the migrated template database, dropped after the block; yields its URL."""
    name = f"healthscore_test_{SESSION_TAG}_{next(_counter)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(TEMPLATE_DB))
        )
    try:
        yield ensure_database(pg_admin_url, name)
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def database_url(pg_admin_url: str, template_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database for one test; DATABASE_URL points at it."""
    with fresh_database(pg_admin_url) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        reset_connection()
        yield url
        reset_connection()
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def module_database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    """A fresh, migrated database shared by one module's tests (e.g. behind a served API); not in DATABASE_URL."""
    with fresh_database(pg_admin_url) as url:
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[DbConnection]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


@pytest.fixture
def events_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "events"


@pytest.fixture(scope="session", autouse=True)
def powertools_environment() -> None:
    """What the template's Globals set for every function; X-Ray is off outside Lambda."""
    use_local_powertools()


@pytest.fixture(scope="session")
def sqs_endpoint() -> str:
    """A real SQS endpoint on loopback: moto in server mode, one per test session."""
    return start_moto_server()


@pytest.fixture
def queues(sqs_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalQueues]:
    """A fresh scoring queue and dead-letter queue with the template's settings and redrive."""
    for name in ("AWS_ENDPOINT_URL_SQS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sqs_endpoint)  # every service of moto's server
    use_local_credentials(sqs_endpoint)
    settings = queue_settings()
    scoring_url, dead_letter_url = create_queues(settings, name=f"scoring-{os.getpid()}-{next(_counter)}")
    monkeypatch.setenv("SCORING_QUEUE_URL", scoring_url)
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", dead_letter_url)
    get_settings.cache_clear()
    yield LocalQueues(sqs_endpoint, scoring_url, dead_letter_url, settings)
    for name in ("AWS_ENDPOINT_URL_SQS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        os.environ.pop(name, None)
    reset_clients()
    get_settings.cache_clear()


@pytest.fixture
def risk_events(queues: LocalQueues, monkeypatch: pytest.MonkeyPatch) -> str:
    """A bus whose every healthscore event lands on a queue; yields that queue's URL."""
    bus = f"risk-{queues.scoring_queue_url.rsplit('-', 1)[-1]}"
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name=bus)
    target_url = sqs.create_queue(QueueName=f"{bus}-target")["QueueUrl"]
    target_arn = sqs.get_queue_attributes(QueueUrl=target_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all-risk-changes", EventBusName=bus, EventPattern=json.dumps({"source": ["healthscore"]}))
    events.put_targets(Rule="all-risk-changes", EventBusName=bus, Targets=[{"Id": "queue", "Arn": target_arn}])
    monkeypatch.setenv("RISK_EVENT_BUS_NAME", bus)
    get_settings.cache_clear()
    return target_url
