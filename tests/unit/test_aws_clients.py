"""Every boto3 client of the service is bounded: 2 s to connect, 5 s to read, standard retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from healthscore.aws import clients


@pytest.fixture(autouse=True)
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    clients.reset_clients()
    yield
    clients.reset_clients()


@pytest.mark.parametrize(
    "factory", [clients.sqs_client, clients.lambda_client, clients.events_client, clients.secrets_client]
)
def test_every_client_connects_in_2_s_reads_in_5_s_with_standard_retries(factory: object) -> None:
    config = factory().meta.config  # type: ignore[operator]
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries["mode"] == "standard"  # 3 attempts, the mode's default
    assert "total_max_attempts" not in config.retries


def test_the_secrets_provider_reads_through_the_bounded_client() -> None:
    assert clients.secrets_provider().client is clients.secrets_client()
