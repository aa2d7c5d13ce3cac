"""The authorizer's signal that it cannot authorize anyone: no signing keys, or misconfiguration.

Every user then gets 403 while the API's own metrics stay quiet, so the refusal is counted
as the `AuthorizerUnavailable` metric (EMF on stdout: no API call on the request's path),
which `AuthorizerUnavailableAlarm` watches. A refused token (expired, wrong audience) is
the caller's problem and is not counted.
"""

from __future__ import annotations

from typing import Final

from aws_lambda_powertools.metrics import MetricUnit, single_metric

METRIC: Final = "AuthorizerUnavailable"


def count_unavailable() -> None:
    with single_metric(name=METRIC, unit=MetricUnit.Count, value=1):
        pass  # written out on leaving the block
