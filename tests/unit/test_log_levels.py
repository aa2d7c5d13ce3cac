"""The AWS SDK's loggers never log below INFO, and never below the configured level either."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from healthscore.log_levels import AWS_SDK_LOGGERS, cap_aws_sdk_loggers


@pytest.fixture(autouse=True)
def restore_levels() -> Iterator[None]:
    root_level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(root_level)
    cap_aws_sdk_loggers()


@pytest.mark.parametrize(
    ("log_level", "expected"),
    [("DEBUG", logging.INFO), ("debug", logging.INFO), ("", logging.INFO), ("WARNING", logging.WARNING)],
)
def test_the_sdk_loggers_are_capped_at_info_whatever_the_level(
    log_level: str, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", log_level)
    logging.getLogger().setLevel(logging.DEBUG)  # as Lambda's runtime sets the root logger at DEBUG
    cap_aws_sdk_loggers()
    for name in (*AWS_SDK_LOGGERS, "botocore.parsers", "botocore.endpoint", "urllib3.connectionpool"):
        assert logging.getLogger(name).getEffectiveLevel() == expected, name
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
