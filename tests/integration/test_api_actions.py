"""The API's actions against real local endpoints: recalculate -> SQS (moto), calculate-all -> Lambda Invoke.

boto3 is pointed at them with AWS_ENDPOINT_URL_* and dummy credentials, as local mode does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from api_support import add_scored_tenants, request
from moto.server import ThreadedMotoServer

from healthscore.aws.clients import reset_clients, sqs_client
from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection
from healthscore.local.http_server import LambdaInvokeApi, LocalFunction, start_server

FANOUT = "healthscore-fanout"


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
