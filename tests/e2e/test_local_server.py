"""`healthscore local serve` as a real process, over real HTTP, with tokens from `healthscore local token`."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import psutil
import pytest
from factories import add_org, add_users
from local_serve import (
    PREFIX,
    STARTUP_SECONDS,
    call,
    call_or_none,
    local_serve,
    mint,
    portal_origin,
    serve_environment,
    spawn_serve,
)

from healthscore.dal.connection import DbConnection


@pytest.fixture
def tenant(conn: DbConnection) -> UUID:
    org_id = add_org(conn, name="Served Tenant")
    add_users(conn, org_id, [datetime.now(UTC) - timedelta(days=1), None])
    return org_id


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return serve_environment(database_url, tmp_path)


@pytest.fixture
def server(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with local_serve(environment, tmp_path / "serve.log") as base_url:
        yield base_url


def test_the_local_server_serves_scores_to_a_token_and_refuses_without_one(
    tenant: UUID, environment: dict[str, str], server: str
) -> None:
    admin = mint("PLATFORM_ADMIN", environment)

    assert call(f"{server}/scores") == (401, {"message": "Unauthorized"})
    assert call(f"{server}/scores", token="not-a-jwt") == (403, {"message": "Forbidden"})
    assert call(f"{server}/calculate-all", token=mint("CLIENT_SUCCESS", environment), method="POST")[0] == 403

    # calculate-all -> local Lambda endpoint -> fan-out -> local SQS -> scorer -> database
    status, started = call(f"{server}/calculate-all", token=admin, method="POST")
    assert status == 202
    deadline = time.monotonic() + 30
    while not (progress := call(f"{server}/runs/{started['runId']}", token=admin)[1])["complete"]:
        assert time.monotonic() < deadline, progress
        time.sleep(0.2)
    assert (progress["tenantCount"], progress["scored"]) == (1, 1)

    status, body = call(f"{server}/scores", token=mint("CLIENT_SUCCESS", environment))
    assert status == 200
    assert [item["organizationId"] for item in body["items"]] == [str(tenant)]


def raw(base_url: str, method: str, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    """A request of any method (urllib knows only a few), answer read."""
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    connection.request(method, url.path + path, headers=headers or {})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


def test_undeclared_methods_preflight_and_cors_as_api_gateway_answers_them(
    tenant: UUID, environment: dict[str, str], server: str, tmp_path: Path
) -> None:
    token = mint("CLIENT_SUCCESS", environment)
    portal = portal_origin(tmp_path / "serve.log")  # the served portal's origin, without --portal-origin

    # A CORS preflight is answered before routing and authorization, with the template's configuration.
    preflight = raw(
        server,
        "OPTIONS",
        "/scores",
        {"Origin": portal, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    assert preflight.status == 204
    assert preflight.getheader("access-control-allow-origin") == portal
    assert preflight.getheader("access-control-allow-methods") == "GET,POST,PUT,DELETE,OPTIONS"
    assert preflight.getheader("access-control-allow-headers") == "authorization,content-type"
    assert preflight.getheader("access-control-max-age") == "600"
    stranger = raw(
        server, "OPTIONS", "/scores", {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert stranger.status == 204
    assert stranger.getheader("access-control-allow-origin") is None

    # An answer to the portal's origin carries Access-Control-Allow-Origin, errors included.
    answer = urllib.request.urlopen(
        urllib.request.Request(f"{server}/scores", headers={"Authorization": f"Bearer {token}", "Origin": portal}),
        timeout=10,
    )
    assert (answer.status, answer.headers["access-control-allow-origin"]) == (200, portal)
    assert answer.headers["access-control-expose-headers"] == "retry-after"
    assert raw(server, "GET", "/scores", {"Origin": portal}).getheader("access-control-allow-origin") == portal
    assert (
        raw(server, "GET", "/scores", {"Origin": "https://evil.example"}).getheader("access-control-allow-origin")
        is None
    )

    # Methods no route declares: JSON, never http.server's 501 HTML page.
    for method in ("OPTIONS", "TRACE", "PUT", "DELETE", "PATCH", "BREW"):
        refused = _json_answer(server, method, "/scores")
        assert refused == (405, "GET, OPTIONS", {"message": f"Method {method} not allowed"}), method
    assert _json_answer(server, "GET", "/calculate-all") == (
        405,
        "OPTIONS, POST",
        {"message": "Method GET not allowed"},
    )
    assert _json_answer(server, "TRACE", "/nowhere") == (404, None, {"message": "Not Found"})
    head = raw(server, "HEAD", "/scores")
    assert (head.status, head.getheader("allow"), head.getheader("content-type")) == (
        405,
        "GET, OPTIONS",
        "application/json",
    )


def _json_answer(base_url: str, method: str, path: str) -> tuple[int, str | None, Any]:
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    connection.request(method, url.path + path)
    answer = connection.getresponse()
    assert answer.getheader("content-type") == "application/json"
    body = json.loads(answer.read())
    connection.close()
    return answer.status, answer.getheader("allow"), body


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_or_sigint_to_its_pid_stops_the_moto_server_and_the_embedded_database(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    # No DATABASE_URL: `local serve` starts its own embedded PostgreSQL under HEALTHSCORE_LOCAL_DIR.
    # Started with SIGINT ignored, as a shell script's background job is (`healthscore local serve &`): a process
    # manager or an IDE's stop button then sends SIGINT to its pid alone, not to a terminal's process group.
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    environment["HEALTHSCORE_LOCAL_DIR"] = str(tmp_path)
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process, port = spawn_serve(environment, log, preexec_fn=_ignore_sigint)
        try:
            deadline = time.monotonic() + STARTUP_SECONDS * 2  # initdb first
            while call_or_none(f"http://127.0.0.1:{port}{PREFIX}/scores") is None:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the server did not start in time"
                time.sleep(0.2)
            found = re.search(r"SQS endpoint http://127\.0\.0\.1:(\d+)", log_path.read_text())
            assert found, log_path.read_text()
            sqs_port = int(found[1])
            children = psutil.Process(process.pid).children(recursive=True)
            postmaster = int((tmp_path / "pgdata" / "postmaster.pid").read_text().split()[0])
            assert _listening(sqs_port)
            assert children
            assert not _gone(postmaster)

            process.send_signal(stop_signal)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()

    assert not _listening(port)
    assert not _listening(sqs_port)
    assert [child.pid for child in children if not _gone(child.pid)] == []
    assert _gone(postmaster)
    assert "Traceback" not in log_path.read_text()
