"""boto3 clients, created once per execution environment on first use, every call bounded.

boto3 is imported here lazily (about 250 ms at cold start): a scorer invocation with
no poison message and no risk change never pays for it. Endpoints follow boto3's
own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, which is how local mode works.

Every client connects within 2 s, reads each answer within 5 s and makes at most 3 attempts
(botocore's standard retry mode, whose default is 3 attempts: exponential backoff with jitter,
throttling retried too; AWS_MAX_ATTEMPTS, as boto3 reads it, may set another number).
boto3's defaults (60 s to connect, 60 s to read, legacy retries) would let a missing VPC endpoint
or a hung service outlast the API's 20 s and the scorer's batch: a Lambda timeout instead of a
503 or a record returned to its queue. Worst case of one call: 3 x 5 s plus backoff, under 20 s.
The only ReceiveMessage of the layer (logic/dead_letters.py) waits 1 s, well inside the read
timeout; long polling longer than 5 s would need a client whose read timeout exceeds its wait.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from botocore.config import Config
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5


def client_config() -> Config:
    """A new Config for each client: botocore writes AWS_MAX_ATTEMPTS into the retries it is given."""
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard"},
    )


@cache
def sqs_client() -> SQSClient:
    import boto3

    return boto3.client("sqs", config=client_config())


@cache
def lambda_client() -> LambdaClient:
    import boto3

    return boto3.client("lambda", config=client_config())


@cache
def events_client() -> EventBridgeClient:
    import boto3

    return boto3.client("events", config=client_config())


@cache
def secrets_client() -> SecretsManagerClient:
    import boto3

    return boto3.client("secretsmanager", config=client_config())


@cache
def secrets_provider() -> SecretsProvider:
    """Powertools' Secrets Manager provider (and its cache of values) on the bounded client."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=secrets_client())


def reset_clients() -> None:
    """Forget the clients and the secrets they read (tests that change endpoints or credentials)."""
    for factory in (sqs_client, lambda_client, events_client, secrets_client, secrets_provider):
        factory.cache_clear()
