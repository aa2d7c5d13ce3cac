"""The X-Ray SDK is opt-in: imported and wrapped around a handler only when POWERTOOLS_TRACE_DISABLED=false."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from healthscore import tracing


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return {"event": event}


@pytest.mark.parametrize("value", [None, "true", "1", "yes"])
def test_without_the_opt_in_the_handler_is_returned_unchanged(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(tracing.SDK_SWITCH, raising=False)
    else:
        monkeypatch.setenv(tracing.SDK_SWITCH, value)
    assert tracing.capture_lambda_handler(handler) is handler


@pytest.mark.parametrize("value", ["false", "FALSE", "0"])
def test_the_opt_in_wraps_the_handler_with_powertools_tracer(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(tracing.SDK_SWITCH, value)
    wrapped = tracing.capture_lambda_handler(handler)
    assert wrapped is not handler
    assert wrapped({"a": 1}, None) == {"event": {"a": 1}}


def test_a_traced_handler_module_does_not_import_the_xray_sdk() -> None:
    code = (
        "import sys; from healthscore import tracing; "
        "tracing.capture_lambda_handler(lambda e, c: e); print('aws_xray_sdk' in sys.modules)"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_NAME": "test"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
