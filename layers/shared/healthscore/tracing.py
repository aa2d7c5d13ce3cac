"""X-Ray tracing of a handler: Lambda's active tracing always, the X-Ray SDK only when asked for.

`Tracing: Active` in template.yaml makes Lambda itself record each invocation's segment
(initialization, invocation, overhead) with no SDK in the function. Powertools' Tracer adds
subsegments (the handler, botocore calls) through the X-Ray SDK, whose import is most of a
cold start: measured 70-90 ms for aws_xray_sdk and the botocore it patches, 1/4 of the api's
and scorer's INIT (docs/performance.md). That SDK is in maintenance mode. So it is opt-in:
set `POWERTOOLS_TRACE_DISABLED=false` on a function to get the SDK's subsegments (and pay its
import); unset or `true`, the handler is returned as it is and aws_xray_sdk is never imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import cast

SDK_SWITCH = "POWERTOOLS_TRACE_DISABLED"


def sdk_tracing_enabled() -> bool:
    """True only when the function's environment opts in to the X-Ray SDK."""
    return os.environ.get(SDK_SWITCH, "").strip().lower() in ("false", "0")


def capture_lambda_handler[Handler: Callable[..., object]](handler: Handler) -> Handler:
    """Powertools' `Tracer.capture_lambda_handler` when the SDK is opted in, else the handler unchanged."""
    if not sdk_tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer  # imports aws_xray_sdk and patches botocore

    return cast(Handler, Tracer().capture_lambda_handler(handler))
