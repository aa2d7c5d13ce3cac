"""A local SQS endpoint (moto in server mode) with the template's queues and redrive policy.

moto runs as its own process (see `moto_server`), so the scorer threads of the local
event source do not compete with it for the interpreter lock. boto3 reaches it
through AWS_ENDPOINT_URL_SQS.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from healthscore.aws.clients import reset_clients, sqs_client
from healthscore.config import get_settings
from healthscore_dev.local.lambda_context import LOCAL_REGION
from healthscore_dev.local.template_settings import QueueSettings, queue_settings

SCORING_QUEUE_NAME = "healthscore-scoring"
STARTUP_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class LocalQueues:
    endpoint_url: str
    scoring_queue_url: str
    dead_letter_queue_url: str
    settings: QueueSettings
    process: subprocess.Popen[bytes] | None = None  # the endpoint's, when this process started it

    def stop(self) -> None:
        """Stop the endpoint this process started (a no-op for one it was given)."""
        if self.process is not None:
            stop_process(self.process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto_server() -> str:
    """Start moto's server on a free loopback port; stopped when this process exits."""
    return start_moto_process()[0]


def start_moto_process() -> tuple[str, subprocess.Popen[bytes]]:
    """Start moto's server on a free loopback port: its endpoint and process, stopped at the latest when
    this process exits (normally: see `stop_process`; or killed: the server watches its parent)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running moto
        [sys.executable, "-m", "healthscore_dev.local.moto_server", str(port), str(os.getpid())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(stop_process, process)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local SQS endpoint (moto) exited with code {process.returncode}")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310 - loopback
            return endpoint, process
        except OSError:
            time.sleep(0.1)
    stop_process(process)
    raise RuntimeError(f"the local SQS endpoint did not start within {STARTUP_TIMEOUT_SECONDS} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a child and wait for it (then kill it), so that its port is free when this returns."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def use_local_credentials(endpoint_url: str) -> None:
    """Point boto3 at the local endpoint with dummy credentials (never real ones)."""
    os.environ["AWS_ENDPOINT_URL_SQS"] = endpoint_url
    os.environ["AWS_ACCESS_KEY_ID"] = "local"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 - moto accepts anything
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    os.environ["AWS_DEFAULT_REGION"] = LOCAL_REGION
    reset_clients()


def create_queues(settings: QueueSettings, name: str = SCORING_QUEUE_NAME) -> tuple[str, str]:
    """The template's scoring queue `name` and its dead-letter queue `name-dlq`; returns their URLs."""
    sqs = sqs_client()
    dead_letter_url = sqs.create_queue(
        QueueName=f"{name}-dlq",
        Attributes={"MessageRetentionPeriod": str(settings.dead_letter_retention_seconds)},
    )["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": settings.max_receive_count}
    scoring_url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": str(settings.visibility_timeout), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return scoring_url, dead_letter_url


def start_local_sqs(settings: QueueSettings | None = None) -> LocalQueues:
    """Start the endpoint, create the queues, and set SCORING_QUEUE_URL / DEAD_LETTER_QUEUE_URL."""
    settings = settings or queue_settings()
    endpoint, process = start_moto_process()
    use_local_credentials(endpoint)
    scoring_url, dead_letter_url = create_queues(settings)
    os.environ["SCORING_QUEUE_URL"] = scoring_url
    os.environ["DEAD_LETTER_QUEUE_URL"] = dead_letter_url
    get_settings.cache_clear()
    return LocalQueues(endpoint, scoring_url, dead_letter_url, settings, process)
