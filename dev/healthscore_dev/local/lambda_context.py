"""A Lambda context object for handlers invoked by the local runtime."""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field

# What the template's Globals set for every function; X-Ray has no daemon locally.
LOCAL_POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME": "healthscore",
    "POWERTOOLS_METRICS_NAMESPACE": "HealthScore",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
LOCAL_ACCOUNT = "000000000000"
LOCAL_REGION = "us-east-1"


@dataclass
class LocalLambdaContext:
    """What Powertools reads of Lambda's context; each invocation gets a new request id."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 60
    log_stream_name: str = "local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def use_local_powertools() -> None:
    """Set the Powertools environment of the template (unless already set) for local handlers.

    With LOG_LEVEL set, the root logger is set as Lambda's runtime sets it (the function's log level,
    a handler printing every record), so that a local run logs what a function would.
    """
    for name, value in LOCAL_POWERTOOLS_ENV.items():
        os.environ.setdefault(name, value)
    level = os.environ.get("LOG_LEVEL", "").strip().upper()
    if level in logging.getLevelNamesMapping():
        root = logging.getLogger()
        root.setLevel(level)
        if not root.handlers:
            root.addHandler(logging.StreamHandler())
