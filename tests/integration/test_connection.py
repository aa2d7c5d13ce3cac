"""The environment's connection: it survives a killed backend, carries its settings, and
follows a rotated secret. Real handlers, a real PostgreSQL, moto's Secrets Manager."""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import boto3
import psycopg
import pytest
from api_support import add_scored_tenants, request
from handlers import lambda_context, load_handler
from pipeline_support import add_scorable_tenant, message_body, sqs_event
from psycopg import sql

from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection, get_connection, reset_connection
from healthscore_dev.bench.scorer_run import protocol_counts
from healthscore_dev.local.sqs_server import LocalQueues

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def terminate_backend(admin_url: str, conn: DbConnection) -> None:
    """What a failover, a server restart or RDS Proxy's idle-client timeout does to a warm connection,
    until the server's closing has reached the client (as it has by the next invocation)."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,)).fetchone() == (True,)
    assert select.select([conn.pgconn.socket], [], [], 10)[0], "the server's closing never reached the client"


def test_the_scorer_survives_a_killed_backend_between_two_batches(
    conn: DbConnection, queues: LocalQueues, pg_admin_url: str
) -> None:
    handler = load_handler("scorer").lambda_handler
    first, second = add_scorable_tenant(conn, AS_OF), add_scorable_tenant(conn, AS_OF)
    assert handler(sqs_event([message_body(first, AS_OF)]), lambda_context()) == {"batchItemFailures": []}
    dead = get_connection()
    terminate_backend(pg_admin_url, dead)
    assert (dead.closed, dead.broken) == (False, False)  # psycopg cannot know until it is used

    assert handler(sqs_event([message_body(second, AS_OF)]), lambda_context()) == {"batchItemFailures": []}

    assert get_connection() is not dead
    scored = conn.execute("SELECT organization_id FROM tenant_health_scores").fetchall()
    assert {row["organization_id"] for row in scored} == {first, second}


def test_a_backend_killed_during_a_batch_is_replaced_before_the_one_by_one_retries(
    conn: DbConnection, queues: LocalQueues, pg_admin_url: str
) -> None:
    """The set-based attempt dies with its connection (a failover mid-batch): the retries use a new one."""
    handler = load_handler("scorer").lambda_handler
    tenants = [add_scorable_tenant(conn, AS_OF) for _ in range(3)]
    warm = get_connection()
    warm.execute("SELECT 1")
    dbname = psycopg.conninfo.conninfo_to_dict(conn.info.dsn)["dbname"]
    with psycopg.connect(psycopg.conninfo.make_conninfo(pg_admin_url, dbname=dbname)) as holder:
        holder.execute("LOCK TABLE tenant_health_scores IN ACCESS EXCLUSIVE MODE")  # the batch waits on it
        killer = threading.Thread(target=_kill_when_waiting, args=(pg_admin_url, warm.info.backend_pid, holder))
        killer.start()
        response = handler(sqs_event([message_body(tenant, AS_OF) for tenant in tenants]), lambda_context())
        killer.join(timeout=30)

    assert response == {"batchItemFailures": []}
    assert get_connection() is not warm
    scored = conn.execute("SELECT organization_id FROM tenant_health_scores").fetchall()
    assert {row["organization_id"] for row in scored} == set(tenants)


def _kill_when_waiting(admin_url: str, pid: int, holder: psycopg.Connection[object]) -> None:
    """Terminate backend `pid` once it waits on the lock, then release the lock."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            waiting = admin.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            if waiting and waiting[0] == "Lock":
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                break
            time.sleep(0.05)
    holder.rollback()


def test_a_live_warm_connection_is_handed_out_without_a_round_trip(conn: DbConnection) -> None:
    warm = get_connection()
    warm.execute("SELECT 1")

    assert protocol_counts(warm, get_connection)["round trips"] == 0
    assert get_connection() is warm


def test_the_api_survives_a_killed_backend_between_two_requests(conn: DbConnection, pg_admin_url: str) -> None:
    add_scored_tenants(conn, 2)
    status, body = request("GET /scores")
    assert (status, len(body["items"])) == (200, 2)
    terminate_backend(pg_admin_url, get_connection())

    status, body = request("GET /scores")

    assert (status, len(body["items"])) == (200, 2)


def test_a_database_that_stays_down_still_fails(conn: DbConnection, pg_admin_url: str, database_url: str) -> None:
    """One reconnection, not a loop: an unreachable database is an error, as before."""
    terminate_backend(pg_admin_url, get_connection())
    dbname = sql.Identifier(str(psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]))
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(dbname))
        try:
            with pytest.raises(psycopg.OperationalError, match="not currently accepting connections"):
                get_connection()
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(dbname))
    assert get_connection().execute("SELECT 1 AS one").fetchone() == {"one": 1}


def test_the_statement_timeout_applies_and_the_url_can_set_its_own(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert get_connection().execute("SHOW statement_timeout").fetchone() == {"statement_timeout": "30s"}
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "200")
    with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
        _fresh_connection().execute("SELECT pg_sleep(5)")
    own = psycopg.conninfo.make_conninfo(database_url, options="-c statement_timeout=7000")
    monkeypatch.setenv("DATABASE_URL", own)
    assert _fresh_connection().execute("SHOW statement_timeout").fetchone() == {"statement_timeout": "7s"}


def test_through_rds_proxy_no_statement_is_prepared(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_connection().prepare_threshold == 5
    monkeypatch.setenv("DB_PROXY", "true")
    conn = _fresh_connection()
    assert conn.prepare_threshold is None
    for _ in range(10):  # psycopg prepares a query after its 5th execution otherwise
        conn.execute("SELECT count(*) FROM organizations WHERE status = %s", ("ACTIVE",))
    assert conn.execute("SELECT count(*) AS n FROM pg_prepared_statements").fetchone() == {"n": 0}


def _fresh_connection() -> DbConnection:
    get_settings.cache_clear()
    reset_connection()
    return get_connection()


# --- a rotated secret ------------------------------------------------------------------------------


@pytest.fixture
def password_role(database_url: str, pg_admin_url: str) -> Iterator[str]:
    """A login role that must give its password (the embedded server trusts local users otherwise).

    Edits the server's pg_hba.conf for this one role and restores it: needs a server whose
    files the tests can write, as the embedded one.
    """
    role = f"rotated_{uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'first-password'").format(sql.Identifier(role)))
        admin.execute(sql.SQL("GRANT pg_read_all_data TO {}").format(sql.Identifier(role)))
        hba = Path(admin.execute("SHOW hba_file").fetchone()[0])  # type: ignore[index]
        original = hba.read_text()
        hba.write_text(f"local all {role} scram-sha-256\nhost all {role} all scram-sha-256\n{original}")
        admin.execute("SELECT pg_reload_conf()")
        try:
            yield role
        finally:
            hba.write_text(original)
            admin.execute("SELECT pg_reload_conf()")
            reset_connection()
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_rotated_password_is_fetched_again_once_the_database_refuses_the_cached_one(
    database_url: str, queues: LocalQueues, password_role: str, pg_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    # The secret names the database; DB_HOST (an RDS Proxy endpoint in AWS) is where to connect.
    secret = {"engine": "postgres", "host": "primary.invalid", "port": 5432, "username": password_role}
    monkeypatch.setenv("DB_HOST", str(info["host"]))
    secret["dbname"] = info["dbname"]
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(
        Name=f"db-{password_role}", SecretString=json.dumps({**secret, "password": "first-password"})
    )["ARN"]
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DB_SECRET_ARN", arn)
    warm = _fresh_connection()
    assert warm.execute("SELECT current_user AS u").fetchone() == {"u": password_role}

    # Rotation: the database and the secret get a new password; the cached secret is stale.
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({**secret, "password": "second-password"}))
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER ROLE {} PASSWORD 'second-password'").format(sql.Identifier(password_role)))
    terminate_backend(pg_admin_url, warm)  # and waits until the client sees it (no race on a loaded machine)

    assert get_connection().execute("SELECT current_user AS u").fetchone() == {"u": password_role}
