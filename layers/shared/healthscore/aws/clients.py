"""boto3 clients, created once per execution environment on first use.

boto3 is imported here lazily (about 250 ms at cold start): a scorer invocation with
no poison message and no risk change never pays for it. Endpoints follow boto3's
own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, which is how local mode works.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient


@cache
def sqs_client() -> SQSClient:
    import boto3

    return boto3.client("sqs")


@cache
def lambda_client() -> LambdaClient:
    import boto3

    return boto3.client("lambda")


@cache
def events_client() -> EventBridgeClient:
    import boto3

    return boto3.client("events")


def reset_clients() -> None:
    """Forget the clients (tests that change endpoints or credentials)."""
    for factory in (sqs_client, lambda_client, events_client):
        factory.cache_clear()
