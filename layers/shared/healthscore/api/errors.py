"""The one place that maps what went wrong to an HTTP answer: JSON `{"message": ...}`.

401 no credentials, 403 wrong role, 404 unknown organization/run or nothing scored,
400 an unusable parameter, 409 a run of the job still in progress (naming its runId),
422 a parameter failing validation (both name it), 503 with `Retry-After` while the
database is unavailable (down, unreachable, or a statement timeout: the caller's request
was fine, a retry will do) or an AWS service it needs does not answer in time (SQS, Lambda:
healthscore/aws/clients.py bounds each call), and 500 for anything unexpected, with the Lambda
request id as correlation id and no internals.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Final

import psycopg
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from botocore.exceptions import BotoCoreError  # imported by Powertools' resolver already: no cost

from healthscore.api import roles
from healthscore.api.problems import (
    BadBodyError,
    BadParameterError,
    ConflictError,
    NotAuthenticatedError,
    NotAuthorizedError,
    ResourceNotFoundError,
)
from healthscore.api.routes import route_roles
from healthscore.logic.enqueue import EnqueueError
from healthscore.logic.run_guard import RunInProgressError
from healthscore.models.api import ErrorBody, FieldError, RunInProgress

logger = Logger(child=True)

PROBLEM_STATUS: Final[dict[type[Exception], HTTPStatus]] = {
    NotAuthenticatedError: HTTPStatus.UNAUTHORIZED,
    NotAuthorizedError: HTTPStatus.FORBIDDEN,
    ResourceNotFoundError: HTTPStatus.NOT_FOUND,
    BadParameterError: HTTPStatus.BAD_REQUEST,
    BadBodyError: HTTPStatus.UNPROCESSABLE_ENTITY,
    ConflictError: HTTPStatus.CONFLICT,
}
# A PUT of a profile missing a field is refused because PUT replaces the whole profile: the 422 says so.
WHOLE_PROFILE_ROUTE: Final = "/profiles/{profileId}"
WHOLE_PROFILE_HINT: Final = " (PUT replaces the whole profile: send all of it, as GET /profiles shows it)"
# Seconds a client should wait after a 503: a restart or failover of the database takes about this long.
RETRY_AFTER_SECONDS: Final = 5


def error_response(status: HTTPStatus, body: ErrorBody, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", by_alias=True, exclude_none=True),
        headers=headers,
    )


def problem_response(problem: Exception) -> Response:
    errors = None
    if isinstance(problem, BadParameterError):
        location = "body" if isinstance(problem, BadBodyError) else "query"
        errors = [FieldError(field=problem.field, location=location, message=problem.problem, type="value_error")]
    return error_response(PROBLEM_STATUS[type(problem)], ErrorBody(message=str(problem), errors=errors))


def validation_response(exc: RequestValidationError, hint: str = "") -> Response:
    """422 naming each field, e.g. `limit: Input should be less than or equal to 200`, then `hint` if any."""
    errors = [_field_error(error) for error in exc.errors()]
    message = "; ".join(f"{error.field}: {error.message}" for error in errors) + hint
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, ErrorBody(message=message, errors=errors))


def _field_error(error: dict[str, Any]) -> FieldError:
    location, *path = error.get("loc") or ("request",)
    # Only pydantic's message and type: its `input` could echo anything the caller sent.
    return FieldError(
        field=".".join(str(part) for part in path) or str(location),
        location=str(location),
        message=str(error.get("msg", "invalid")),
        type=str(error.get("type", "value_error")),
    )


def _is_json(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == content_types.APPLICATION_JSON


def json_problem(body: str) -> str | None:
    """Where a body is not JSON, in words a person acts on; None for a body that is JSON."""
    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        return f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    return None


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(list(PROBLEM_STATUS))
    def problem(exc: Exception) -> Response:
        return problem_response(exc)

    @app.exception_handler(RunInProgressError)
    def run_in_progress(exc: RunInProgressError) -> Response:
        body = RunInProgress(message=str(exc), run_id=exc.run_id)
        return Response(
            status_code=HTTPStatus.CONFLICT,
            content_type=content_types.APPLICATION_JSON,
            body=body.model_dump(mode="json", by_alias=True),
        )

    def denied_first() -> Response | None:
        # Powertools validates parameters before any route middleware runs: check the caller
        # first, so one without credentials or role learns nothing about the parameters.
        try:
            roles.authorize(app.current_event, route_roles(app.current_event.raw_event.get("routeKey")))
        except (NotAuthenticatedError, NotAuthorizedError) as denied:
            return problem_response(denied)
        return None

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response:
        event = app.current_event
        # Powertools reads a body without a JSON Content-Type as a form (curl --data's default): its
        # "fields" would be the JSON text itself. Say what to change instead.
        if event.body and any(error.get("loc", ())[:1] == ("body",) for error in exc.errors()):
            if not _is_json(event.headers.get("content-type")):
                return not_json()
            if (problem := json_problem(event.decoded_body or "")) is not None:
                return denied_first() or error_response(
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                    ErrorBody(
                        message=problem,
                        errors=[FieldError(field="body", location="body", message=problem, type="json_invalid")],
                    ),
                )
        route_key = str(event.raw_event.get("routeKey", ""))
        whole_profile = (
            route_key.startswith("PUT ")
            and route_key.endswith(WHOLE_PROFILE_ROUTE)
            and any(error.get("type") == "missing" for error in exc.errors())
        )
        return denied_first() or validation_response(exc, WHOLE_PROFILE_HINT if whole_profile else "")

    def not_json() -> Response:
        message = "The body must be JSON: send it with the header Content-Type: application/json"
        return denied_first() or error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, ErrorBody(message=message))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_body(exc: RequestUnsupportedContentType) -> Response:
        return not_json()

    @app.not_found
    def no_route(exc: NotFoundError) -> Response:
        event = app.current_event
        return error_response(HTTPStatus.NOT_FOUND, ErrorBody(message=f"No route {event.http_method} {event.path}"))

    # psycopg's OperationalError covers a refused or dropped connection, a connect timeout and
    # QueryCanceled (statement_timeout); Powertools picks the handler by the exception's MRO.
    @app.exception_handler(psycopg.OperationalError)
    def database_unavailable(exc: psycopg.OperationalError) -> Response:
        logger.warning("database unavailable", extra={"error": type(exc).__name__, "sqlstate": exc.sqlstate})
        return unavailable(f"The database is unavailable for now; retry in {RETRY_AFTER_SECONDS} seconds")

    def unavailable(message: str) -> Response:
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            ErrorBody(message=message, correlation_id=getattr(app.lambda_context, "aws_request_id", None)),
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    # botocore's BotoCoreError covers a connect or read timeout and an unreachable endpoint (not an
    # AWS error answer, ClientError: that is unexpected); EnqueueError, a message SQS did not take.
    @app.exception_handler([BotoCoreError, EnqueueError])
    def aws_unavailable(exc: Exception) -> Response:
        logger.warning("AWS service unavailable", extra={"error": type(exc).__name__})
        return unavailable(f"An AWS service is unavailable for now; retry in {RETRY_AFTER_SECONDS} seconds")

    # Powertools decodes a base64 body as UTF-8 before parsing it as JSON.
    @app.exception_handler(UnicodeDecodeError)
    def body_not_utf8(exc: UnicodeDecodeError) -> Response:
        message = "The body must be JSON in UTF-8; its bytes are not UTF-8"
        return denied_first() or error_response(HTTPStatus.BAD_REQUEST, ErrorBody(message=message))

    # Powertools' validation parses a multipart body itself and raises a bare ValueError for one
    # without a boundary; every other ValueError is unexpected, as before.
    @app.exception_handler(ValueError)
    def bad_multipart_or_unexpected(exc: ValueError) -> Response:
        content_type = app.current_event.headers.get("content-type") or ""
        return not_json() if content_type.lower().startswith("multipart/") else unexpected(exc)

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response:
        logger.exception("unexpected error")
        correlation_id = getattr(app.lambda_context, "aws_request_id", None)
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            ErrorBody(
                message="Internal server error; quote the correlationId when reporting it",
                correlation_id=correlation_id,
            ),
        )
