"""The API's actions against real local endpoints: recalculate -> SQS (moto), calculate-all -> Lambda Invoke.

boto3 is pointed at them with AWS_ENDPOINT_URL_* and dummy credentials, as local mode does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from api_support import add_scored_tenants, api_event, request
from moto.server import ThreadedMotoServer

from healthscore.aws.clients import reset_clients, sqs_client
from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection
from healthscore_dev.local.http_server import LambdaInvokeApi, LocalFunction, start_server

FANOUT = "healthscore-fanout"
API_TIMEOUT_SECONDS = 20  # template.yaml: ApiFunction's Timeout


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """An endpoint that accepts every connection and never answers (a hung service, a black-holed path)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, name="silent-endpoint", daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


def request_within_the_api_budget(route: str, **kwargs: Any) -> tuple[int, Any]:
    """The request's answer; fails if it takes longer than the API function may (a Lambda timeout)."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(request, route, **kwargs).result(timeout=API_TIMEOUT_SECONDS)
    finally:
        pool.shutdown(wait=False)


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_clients()
    yield
    reset_clients()
    get_settings.cache_clear()


@pytest.fixture
def scoring_queue(aws_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://{host}:{port}")
    reset_clients()
    queue_url = sqs_client().create_queue(QueueName="scoring")["QueueUrl"]
    monkeypatch.setenv("SCORING_QUEUE_URL", queue_url)
    get_settings.cache_clear()
    yield queue_url
    server.stop()


@pytest.fixture
def fanout_invocations(aws_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaInvokeApi]:
    """A local Lambda Invoke endpoint whose fan-out only records that it ran."""
    ran = threading.Event()

    def fanout(event: dict[str, Any], context: Any) -> None:
        ran.set()

    invoke_api = LambdaInvokeApi({FANOUT: LocalFunction(FANOUT, fanout)})
    server = start_server(0, invoke_api.handle)
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.endpoint_url)
    monkeypatch.setenv("FANOUT_FUNCTION_NAME", FANOUT)
    reset_clients()
    get_settings.cache_clear()
    yield invoke_api
    invoke_api.join(timeout=5)
    assert not invoke_api.invocations or ran.is_set()
    server.shutdown()


def received(queue_url: str) -> list[dict[str, Any]]:
    messages = sqs_client().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_recalculate_puts_one_scoring_message_on_the_queue(conn: DbConnection, scoring_queue: str) -> None:
    org_id = add_scored_tenants(conn, 1)[0]

    status, body = request("POST /scores/{organizationId}/recalculate", path={"organizationId": org_id})

    assert status == 202
    assert body["message"] == "Recalculation queued"
    assert body["organizationId"] == str(org_id)
    assert body["runId"].startswith("recalc-")
    assert received(scoring_queue) == [
        {"type": "calculate-score", "organizationId": str(org_id), "asOf": body["asOf"], "runId": body["runId"]}
    ]
    status, progress = request("GET /runs/{runId}", path={"runId": body["runId"]})
    assert (status, progress["tenantCount"], progress["pending"]) == (200, 1, 1)


def test_recalculate_answers_503_within_the_api_budget_when_sqs_never_answers(
    conn: DbConnection, scoring_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id = add_scored_tenants(conn, 1)[0]
    with silent_endpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", endpoint)
        reset_clients()
        status, body = request_within_the_api_budget(
            "POST /scores/{organizationId}/recalculate", path={"organizationId": org_id}
        )
    assert status == 503
    assert body["message"] == "An AWS service is unavailable for now; retry in 5 seconds"


def test_calculate_all_answers_503_within_the_api_budget_when_lambda_never_answers(
    database_url: str, fanout_invocations: LambdaInvokeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    lambda_endpoint = os.environ["AWS_ENDPOINT_URL_LAMBDA"]
    with silent_endpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint)
        reset_clients()
        status, _ = request_within_the_api_budget("POST /calculate-all", roles="PLATFORM_ADMIN")
    assert status == 503
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_endpoint)
    reset_clients()
    assert request("POST /calculate-all", roles="PLATFORM_ADMIN")[0] == 202  # the failed run held nothing off


def test_calculate_all_starts_the_fan_out_asynchronously(
    database_url: str, fanout_invocations: LambdaInvokeApi
) -> None:
    status, body = request("POST /calculate-all", roles="PLATFORM_ADMIN")

    assert status == 202
    assert body["runId"].startswith("calculate-scores-")
    assert [(i.function_name, i.invocation_type) for i in fanout_invocations.invocations] == [(FANOUT, "Event")]
    assert fanout_invocations.invocations[0].payload == {
        "job": "calculate-scores",
        "asOf": body["asOf"],
        "runId": body["runId"],
    }
    # The run is recorded before the fan-out runs, so its progress answers at once.
    status, progress = request("GET /runs/{runId}", path={"runId": body["runId"]})
    assert status == 200
    assert (progress["job"], progress["tenantCount"], progress["pending"]) == ("calculate-scores", None, None)
    assert datetime.fromisoformat(progress["asOf"]) == datetime.fromisoformat(body["asOf"]).astimezone(UTC)


def test_calculate_all_needs_platform_admin(database_url: str, fanout_invocations: LambdaInvokeApi) -> None:
    status, body = request("POST /calculate-all", roles="CLIENT_SUCCESS")

    assert (status, body) == (403, {"message": "Forbidden: this operation needs the role PLATFORM_ADMIN"})
    assert fanout_invocations.invocations == []


def test_the_lambda_endpoint_answers_an_unknown_function_as_lambda_does(
    database_url: str, fanout_invocations: LambdaInvokeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FANOUT_FUNCTION_NAME", "not-deployed")
    get_settings.cache_clear()

    status, body = request("POST /calculate-all", roles="PLATFORM_ADMIN")

    assert status == 500  # boto3 raised ResourceNotFoundException inside the api function
    assert set(body) == {"message", "correlationId"}

    # The run that never started is forgotten: it does not hold off the next request.
    monkeypatch.setenv("FANOUT_FUNCTION_NAME", FANOUT)
    get_settings.cache_clear()
    assert request("POST /calculate-all", roles="PLATFORM_ADMIN")[0] == 202


# --- one calculate-scores run at a time ---------------------------------------------------------


def test_calculate_all_while_a_run_is_in_progress_is_409_naming_it(
    database_url: str, fanout_invocations: LambdaInvokeApi
) -> None:
    first = request("POST /calculate-all", roles="PLATFORM_ADMIN")[1]

    status, body = request("POST /calculate-all", roles="PLATFORM_ADMIN")

    assert status == 409
    assert body == {
        "message": f"A calculate-scores run is still in progress: {first['runId']};"
        f" follow it with GET /runs/{first['runId']}",
        "runId": first["runId"],
    }
    assert len(fanout_invocations.invocations) == 1


# One API execution environment in a process of its own, as Lambda runs them: it loads the real
# handler, says "ready", and invokes it with the event it reads once every environment is ready.
ENVIRONMENT_SCRIPT = """
import json, sys
from healthscore_dev.local.handlers import load_handler
from healthscore_dev.local.lambda_context import LocalLambdaContext
handler = load_handler("api").lambda_handler
print("ready", flush=True)
event = json.loads(sys.stdin.readline())
response = handler(event, LocalLambdaContext("ApiFunction"))
print(json.dumps({"status": response["statusCode"], "body": json.loads(response["body"])}), flush=True)
"""


def test_ten_concurrent_calculate_all_start_exactly_one_run(
    conn: DbConnection, fanout_invocations: LambdaInvokeApi
) -> None:
    environments = [
        subprocess.Popen(
            [sys.executable, "-c", ENVIRONMENT_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(10)
    ]
    try:
        for environment in environments:
            assert environment.stdout is not None
            assert environment.stdout.readline().strip() == "ready"
        event = json.dumps(api_event("POST /calculate-all", roles="PLATFORM_ADMIN")) + "\n"
        for environment in environments:  # ten requests within a few milliseconds
            assert environment.stdin is not None
            environment.stdin.write(event)
            environment.stdin.flush()
        answers = [json.loads(environment.communicate(timeout=60)[0]) for environment in environments]
    finally:
        for environment in environments:
            environment.kill()

    started = [answer["body"] for answer in answers if answer["status"] == 202]
    assert len(started) == 1, answers
    assert sorted(answer["status"] for answer in answers) == [202] + [409] * 9
    assert {answer["body"]["runId"] for answer in answers} == {started[0]["runId"]}
    fanout_invocations.join(timeout=10)
    assert len(fanout_invocations.invocations) == 1
    assert conn.execute("SELECT run_id FROM scoring_runs").fetchall() == [{"run_id": started[0]["runId"]}]


def _run(conn: DbConnection, run_id: str, job: str, tenant_count: int | None, outcomes: int, age_hours: float) -> None:
    conn.execute(
        "INSERT INTO scoring_runs (run_id, job, as_of, tenant_count, started_at)"
        " VALUES (%s, %s, now(), %s, now() - make_interval(secs => %s))",
        (run_id, job, tenant_count, age_hours * 3600),
    )
    for _ in range(outcomes):
        conn.execute(
            "INSERT INTO run_tenant_outcomes (run_id, organization_id, outcome)"
            " VALUES (%s, gen_random_uuid(), 'scored')",
            (run_id,),
        )


@pytest.mark.parametrize(
    ("job", "tenant_count", "outcomes", "age_hours", "blocks"),
    [
        ("calculate-scores", None, 0, 0.1, True),  # the fan-out is still enqueuing
        ("calculate-scores", 3, 2, 5.9, True),  # one tenant still pending
        ("calculate-scores", 3, 3, 0.1, False),  # every tenant has its outcome
        ("calculate-scores", None, 0, 6.1, False),  # a fan-out that died more than 6 hours ago
        ("calculate-scores", 3, 1, 6.1, False),  # tenants lost for more than 6 hours
        ("record-metrics", 3, 0, 0.1, False),  # another job
    ],
    ids=["enqueuing", "pending", "complete", "dead-fan-out", "stale", "other-job"],
)
def test_what_counts_as_a_run_in_progress(
    conn: DbConnection,
    fanout_invocations: LambdaInvokeApi,
    job: str,
    tenant_count: int | None,
    outcomes: int,
    age_hours: float,
    blocks: bool,
) -> None:
    _run(conn, "earlier-run", job, tenant_count, outcomes, age_hours)

    status, body = request("POST /calculate-all", roles="PLATFORM_ADMIN")

    assert (status, body.get("runId") == "earlier-run") == ((409, True) if blocks else (202, False))


def test_a_pending_recalculation_does_not_hold_off_a_fleet_run(
    conn: DbConnection, scoring_queue: str, fanout_invocations: LambdaInvokeApi
) -> None:
    org_id = add_scored_tenants(conn, 1)[0]
    assert request("POST /scores/{organizationId}/recalculate", path={"organizationId": org_id})[0] == 202

    assert request("POST /calculate-all", roles="PLATFORM_ADMIN")[0] == 202
