"""The two database roles of docs/sql/: the migration owner migrates, the runtime role scores
and serves with data access only. The same SQL files as the deploy guide, on an empty schema
without PUBLIC privileges (as PostgreSQL 15 and later create `public`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from api_support import request
from handlers import lambda_context, load_handler
from pipeline_support import add_scorable_tenant, message_body, sqs_event
from psycopg import sql
from psycopg.rows import dict_row

from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection, get_connection, reset_connection
from healthscore.dal.migrate import migrate
from healthscore_dev.local.sqs_server import LocalQueues

ROLES_SQL = Path(__file__).resolve().parents[2] / "docs" / "sql"
AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
OWNER, APP = "healthscore_owner", "healthscore_app"
FUNCTION_ROLES = {"api": "healthscore_api", "scorer": "healthscore_scorer", "fanout": "healthscore_fanout"}


def run_file(conn: DbConnection, name: str, roles: dict[str, str]) -> None:
    text = (ROLES_SQL / name).read_text()
    for role, unique in roles.items():  # roles are cluster-wide: this test's own names
        text = text.replace(role, unique)
    conn.execute(text.encode())


@pytest.fixture
def roles(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    suffix = uuid4().hex[:8]
    names = {role: f"{role}_{suffix}" for role in (OWNER, APP, *FUNCTION_ROLES.values())}
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as admin:
        admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")  # no CREATE for PUBLIC
        run_file(admin, "roles-admin.sql", names)
        try:
            yield names
        finally:
            reset_connection()
            for role in names.values():
                admin.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
                admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_owner_migrates_and_the_runtime_role_scores_and_serves_without_ddl(
    database_url: str, roles: dict[str, str], queues: LocalQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner_url = psycopg.conninfo.make_conninfo(database_url, user=roles["healthscore_owner"])
    app_url = psycopg.conninfo.make_conninfo(database_url, user=roles["healthscore_app"])
    with psycopg.connect(app_url, autocommit=True) as app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("CREATE TABLE tenant_health_scores (id int)")  # the runtime role may not create
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as owner:
        run_file(owner, "roles-owner.sql", roles)
        assert migrate(owner)  # as on a first deploy: every migration, source tables included
        org = add_scorable_tenant(owner, AS_OF)

    monkeypatch.setenv("DATABASE_URL", app_url)
    get_settings.cache_clear()
    reset_connection()
    answer = load_handler("scorer").lambda_handler(sqs_event([message_body(org, AS_OF)]), lambda_context())
    assert answer == {"batchItemFailures": []}
    status, body = request("GET /scores")
    assert (status, [item["organizationId"] for item in body["items"]]) == (200, [str(org)])

    with psycopg.connect(app_url, autocommit=True) as app:
        for ddl in ("DROP TABLE tenant_health_scores", "ALTER TABLE organizations ADD COLUMN x int"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(ddl)
        limits = app.execute(
            "SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname = ANY(%s) ORDER BY rolname",
            (list(roles.values()),),
        ).fetchall()
        expected = {"healthscore_app": 40, "healthscore_owner": 3, "healthscore_api": 10, "healthscore_scorer": 10}
        expected["healthscore_fanout"] = 2
        assert limits == sorted((roles[role], limit) for role, limit in expected.items())


def test_behind_rds_proxy_each_function_role_brings_its_statement_timeout_and_the_runtimes_privileges(
    database_url: str, roles: dict[str, str], queues: LocalQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DB_PROXY=true: no startup options (the proxy refuses them), so the login role's setting is the timeout."""
    owner_url = psycopg.conninfo.make_conninfo(database_url, user=roles[OWNER])
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as owner:
        run_file(owner, "roles-owner.sql", roles)
        migrate(owner)
        org = add_scorable_tenant(owner, AS_OF)
    monkeypatch.setenv("DB_PROXY", "true")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "1")  # what the connection would ask for: not sent
    timeouts = {}
    for function, role in FUNCTION_ROLES.items():
        monkeypatch.setenv("DATABASE_URL", psycopg.conninfo.make_conninfo(database_url, user=roles[role]))
        get_settings.cache_clear()
        reset_connection()
        timeouts[function] = get_connection().execute("SHOW statement_timeout").fetchone()
        if function == "scorer":
            answer = load_handler("scorer").lambda_handler(sqs_event([message_body(org, AS_OF)]), lambda_context())
            assert answer == {"batchItemFailures": []}
        if function == "api":
            assert request("GET /scores")[0] == 200
    assert timeouts == {
        "api": {"statement_timeout": "5s"},
        "scorer": {"statement_timeout": "5s"},
        "fanout": {"statement_timeout": "30s"},
    }
