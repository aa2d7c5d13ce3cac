"""The migrate function against a real PostgreSQL, answering a real HTTP server standing in for
CloudFormation's pre-signed ResponseURL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from handlers import load_handler

from healthscore.aws import custom_resource
from healthscore.aws.custom_resource import ResponseNotSentError, response_document, run_custom_resource
from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection, reset_connection
from healthscore.dal.migrate import bundled_migrations
from healthscore_dev.local.lambda_context import LocalLambdaContext
from healthscore_dev.local.sqs_server import free_port

ALL_VERSIONS = [m.version for m in bundled_migrations()]


def migrate_context(timeout_seconds: float = 300) -> LocalLambdaContext:
    """The Lambda context as the migrate function sees it."""
    return LocalLambdaContext(
        "healthscore-test-MigrateFunction",
        timeout_seconds=timeout_seconds,
        log_stream_name="2026/11/28/[$LATEST]0123456789abcdef0123456789abcdef",
    )


def custom_resource_event(events_dir: Path, response_url: str, request_type: str = "Create", **extra: Any) -> Any:
    event = json.loads((events_dir / "migrate_custom_resource_create.json").read_text())
    event.update(RequestType=request_type, ResponseURL=response_url, **extra)
    return event


def tables(conn: DbConnection) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row["tablename"] for row in rows}


@pytest.fixture
def empty_database(database_url: str, conn: DbConnection) -> DbConnection:
    """The test's database with nothing in it, as on a first deployment."""
    conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return conn


@pytest.fixture
def unreachable_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"postgresql://healthscore:not-a-secret@127.0.0.1:{free_port()}/nowhere?connect_timeout=3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    get_settings.cache_clear()
    reset_connection()
    yield url
    reset_connection()
    get_settings.cache_clear()


class ResponseServer:
    """An HTTP server on 127.0.0.1 standing in for the pre-signed ResponseURL; records each PUT."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.answered = threading.Event()  # set once a document has been received
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.headers.append(dict(self.headers.items()))
                outer.documents.append(json.loads(body))
                outer.answered.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/stack-response?X-Amz-Signature=0"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def response_server() -> Iterator[ResponseServer]:
    server = ResponseServer()
    yield server
    server.close()


# ------------------------------------------------------------------ the handler


def test_create_migrates_and_answers_success_and_an_update_is_a_no_op(
    empty_database: DbConnection, response_server: ResponseServer, events_dir: Path
) -> None:
    migrate_function = load_handler("migrate")
    create = custom_resource_event(events_dir, response_server.url)

    returned = migrate_function.lambda_handler(create, migrate_context())

    (created,) = response_server.documents
    assert created == returned
    assert created["Status"] == "SUCCESS", created["Reason"]
    assert created["Data"] == {"AppliedCount": str(len(ALL_VERSIONS)), "Applied": ",".join(ALL_VERSIONS)}
    assert (created["StackId"], created["RequestId"], created["LogicalResourceId"]) == (
        create["StackId"],
        create["RequestId"],
        "Migrations",
    )
    assert created["PhysicalResourceId"] == "healthscore-dev-Migrations"
    assert response_server.headers[0]["Content-Type"] == ""  # what the pre-signed URL was signed for
    assert {"organizations", "tenant_health_scores", "schema_migrations"} <= tables(empty_database)

    # The next deploy with a new layer version: Update, nothing pending, same physical id.
    update = custom_resource_event(
        events_dir,
        response_server.url,
        "Update",
        PhysicalResourceId=created["PhysicalResourceId"],
        RequestId="9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
        OldResourceProperties=create["ResourceProperties"],
    )
    migrate_function.lambda_handler(update, migrate_context())

    updated = response_server.documents[1]
    assert updated["Status"] == "SUCCESS", updated["Reason"]
    assert updated["Data"] == {"AppliedCount": "0", "Applied": ""}
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    applied = empty_database.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()
    assert applied is not None
    assert applied["n"] == len(ALL_VERSIONS)


def test_delete_keeps_the_schema_and_answers_success(
    conn: DbConnection, response_server: ResponseServer, events_dir: Path
) -> None:
    before = tables(conn)
    delete = custom_resource_event(
        events_dir, response_server.url, "Delete", PhysicalResourceId="healthscore-dev-Migrations"
    )

    load_handler("migrate").lambda_handler(delete, migrate_context())

    (deleted,) = response_server.documents
    assert deleted["Status"] == "SUCCESS"
    assert deleted["PhysicalResourceId"] == "healthscore-dev-Migrations"
    assert tables(conn) == before


def test_an_unreachable_database_answers_failed_with_the_reason(
    unreachable_database: str, response_server: ResponseServer, events_dir: Path
) -> None:
    started = time.monotonic()

    load_handler("migrate").lambda_handler(custom_resource_event(events_dir, response_server.url), migrate_context())

    (failed,) = response_server.documents
    assert failed["Status"] == "FAILED"
    assert failed["Reason"].startswith("Create failed: OperationalError:")
    assert "127.0.0.1" in failed["Reason"]
    assert "not-a-secret" not in failed["Reason"]
    assert "log stream 2026/11/28/[$LATEST]" in failed["Reason"]
    assert failed["PhysicalResourceId"]  # CloudFormation needs one even for a failed Create
    assert time.monotonic() - started < 30


def test_a_plain_invoke_returns_the_versions_applied_now(empty_database: DbConnection) -> None:
    migrate_function = load_handler("migrate")

    assert migrate_function.lambda_handler({"action": "migrate"}, migrate_context()) == {"applied": ALL_VERSIONS}
    assert migrate_function.lambda_handler({"action": "migrate"}, migrate_context()) == {"applied": []}


def test_a_plain_invoke_fails_the_invocation_when_it_cannot_migrate(unreachable_database: str) -> None:
    with pytest.raises(psycopg.OperationalError):
        load_handler("migrate").lambda_handler({"action": "migrate"}, migrate_context())


def test_any_other_event_is_refused(database_url: str) -> None:
    with pytest.raises(ValueError, match="custom resource event or"):
        load_handler("migrate").lambda_handler({"job": "calculate-scores"}, migrate_context())


# ------------------------------------------------------------------ the custom resource helper


def test_work_still_running_near_the_timeout_is_answered_failed_once(
    response_server: ResponseServer, events_dir: Path
) -> None:
    finished = threading.Event()

    def slow() -> dict[str, str]:
        # Finishes only once the watchdog has answered, however loaded the machine (no race of sleeps).
        assert response_server.answered.wait(timeout=60), "the watchdog never answered"
        finished.set()
        return {"Applied": "late"}

    # 5.2 s left and a 5 s margin: the watchdog answers after about 0.2 s.
    context = migrate_context(timeout_seconds=custom_resource.TIMEOUT_MARGIN_SECONDS + 0.2)
    returned = run_custom_resource(
        custom_resource_event(events_dir, response_server.url), context, create_or_update=slow
    )

    assert finished.is_set()
    (answer,) = response_server.documents  # the late success is not sent
    assert answer == returned
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("timed out")


def test_an_unreachable_response_url_raises_so_that_lambda_retries(events_dir: Path) -> None:
    event = custom_resource_event(events_dir, f"http://127.0.0.1:{free_port()}/nobody-listens")

    with pytest.raises(ResponseNotSentError):
        run_custom_resource(event, migrate_context(), create_or_update=lambda: None)


def test_the_response_stays_under_cloudformations_size_limit(events_dir: Path) -> None:
    event = custom_resource_event(events_dir, "https://example.com/")

    document = response_document(event, "FAILED", reason="x" * 10_000, data={"Applied": "y" * 10_000})

    assert len(json.dumps(document).encode()) <= custom_resource.MAX_RESPONSE_BYTES
    assert document["Data"] == {}
    assert document["Reason"] == "x" * custom_resource.MAX_REASON_CHARS
