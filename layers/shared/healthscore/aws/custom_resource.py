"""CloudFormation custom resources: do the work, then always answer CloudFormation.

Powertools has a data class for the custom resource event but nothing that sends the
response, so this module PUTs the response document to the event's pre-signed
`ResponseURL` itself (standard library only). Whatever happens (success, an exception,
the function about to time out), CloudFormation gets exactly one answer, SUCCESS or
FAILED with a reason, so a stack never waits for the custom resource's timeout.

Why not AWS's `crhelper` (2.0.12, read and run): with an unreachable ResponseURL it retries
in a `while True` loop (measured: still running after 40 s, so in Lambda until the
function's timeout) where this module raises after 10 s so that Lambda retries the event;
its watchdog answers only 0.5 s before the timeout over a connection without a timeout,
and the work finishing after the watchdog answers a second time; it builds three boto3
clients (Lambda, Events, Logs) for a polling mode this resource does not use (measured
+0.3-0.5 s per cold start here); it answers over HTTPS only, which the local tests' fake
ResponseURL cannot offer without a certificate of its own.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

Status = Literal["SUCCESS", "FAILED"]
RequestType = Literal["Create", "Update", "Delete"]
# What an action returns: the resource's attributes (Fn::GetAtt), or None.
Action = Callable[[], Mapping[str, str] | None]

MAX_RESPONSE_BYTES = 4096  # CloudFormation's limit for the whole response document
MAX_REASON_CHARS = 1024
RESPONSE_TIMEOUT_SECONDS = 10
# Answer FAILED this long before Lambda would kill the invocation (which could not answer).
TIMEOUT_MARGIN_SECONDS = 5
_REQUIRED_KEYS = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")


class LambdaContextLike(Protocol):
    """What this module reads of the Lambda context (each attribute used only if present)."""

    @property
    def log_stream_name(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


class ResponseNotSentError(RuntimeError):
    """CloudFormation's ResponseURL could not be reached; raise so Lambda retries the event."""


def is_custom_resource_event(event: object) -> bool:
    """True for a CloudFormation custom resource request (Create, Update or Delete)."""
    return (
        isinstance(event, Mapping)
        and all(key in event for key in _REQUIRED_KEYS)
        and event["RequestType"] in ("Create", "Update", "Delete")
    )


def physical_resource_id(event: Mapping[str, Any]) -> str:
    """Keep the id CloudFormation knows (Update, Delete); on Create derive a stable one.

    A changed id on Update would make CloudFormation delete the "old" resource.
    """
    existing = event.get("PhysicalResourceId")
    if existing:
        return str(existing)
    stack_name = str(event["StackId"]).split("/")[1] if "/" in str(event["StackId"]) else str(event["StackId"])
    return f"{stack_name}-{event['LogicalResourceId']}"


def response_document(
    event: Mapping[str, Any],
    status: Status,
    *,
    reason: str = "",
    data: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The response CloudFormation expects, kept under its 4096-byte limit."""
    document: dict[str, Any] = {
        "Status": status,
        "Reason": reason[:MAX_REASON_CHARS] or status,
        "PhysicalResourceId": physical_resource_id(event),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": dict(data or {}),
    }
    if len(json.dumps(document).encode()) > MAX_RESPONSE_BYTES:
        document["Data"] = {}
    return document


def send_response(event: Mapping[str, Any], document: Mapping[str, Any]) -> None:
    """PUT the response document to the event's pre-signed ResponseURL."""
    url = str(event["ResponseURL"])
    if urlsplit(url).scheme not in ("https", "http"):  # http only for local tests
        raise ResponseNotSentError(f"ResponseURL is not an http(s) URL: {url[:40]!r}")
    body = json.dumps(document).encode()
    # The URL is pre-signed without a content type: send an empty one, not urllib's default.
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    try:
        with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read()
    except OSError as exc:  # URLError, HTTPError, timeouts, refused connections
        raise ResponseNotSentError(f"could not answer CloudFormation: {exc}") from exc


class _OneAnswer:
    """Sends at most one response, whichever of the work and the timeout watchdog comes first."""

    def __init__(self, event: Mapping[str, Any]) -> None:
        self._event = event
        self._lock = threading.Lock()
        self.document: dict[str, Any] | None = None

    def send(self, status: Status, reason: str = "", data: Mapping[str, str] | None = None) -> bool:
        with self._lock:
            if self.document is not None:
                return False
            document = response_document(self._event, status, reason=reason, data=data)
            send_response(self._event, document)
            self.document = document
            logger.info(
                "answered CloudFormation",
                extra={"status": status, "reason": document["Reason"], "data": document["Data"]},
            )
            return True


def run_custom_resource(
    event: Mapping[str, Any],
    context: LambdaContextLike | None,
    *,
    create_or_update: Action,
    delete: Action | None = None,
) -> dict[str, Any]:
    """Run the action for the event's RequestType and answer CloudFormation; return the answer.

    An exception from the action becomes FAILED with its message as the reason (and the log
    stream to look at). If the action is still running shortly before the Lambda timeout, a
    watchdog answers FAILED first. Delete without a `delete` action succeeds doing nothing.
    Raises `ResponseNotSentError` only if CloudFormation could not be reached, so that Lambda's
    retry of the asynchronous invocation gets another chance to answer.
    """
    if not is_custom_resource_event(event):
        raise ValueError("not a CloudFormation custom resource event")
    request_type: RequestType = event["RequestType"]
    action = delete if request_type == "Delete" else create_or_update
    answer = _OneAnswer(event)
    log_stream = getattr(context, "log_stream_name", None)
    where = f" (log stream {log_stream})" if log_stream else ""

    watchdog = _start_watchdog(answer, context, where)
    try:
        data = action() if action is not None else None
    except Exception as exc:
        logger.exception("custom resource %s failed", request_type)
        answer.send("FAILED", f"{request_type} failed: {type(exc).__name__}: {exc}"[: MAX_REASON_CHARS - 80] + where)
    else:
        if not answer.send("SUCCESS", f"{request_type} succeeded", data):
            logger.warning("the work finished after the timeout watchdog had answered FAILED")
    finally:
        if watchdog is not None:
            watchdog.cancel()
    assert answer.document is not None
    return answer.document


def _start_watchdog(answer: _OneAnswer, context: LambdaContextLike | None, where: str) -> threading.Timer | None:
    remaining_millis = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_millis is None:
        return None
    seconds_left = remaining_millis() / 1000 - TIMEOUT_MARGIN_SECONDS

    def timed_out() -> None:
        try:
            answer.send("FAILED", f"timed out: the function was about to reach its timeout{where}")
        except ResponseNotSentError:
            logger.exception("could not answer CloudFormation before the timeout")

    timer = threading.Timer(max(seconds_left, 0.1), timed_out)
    timer.daemon = True
    timer.start()
    return timer
