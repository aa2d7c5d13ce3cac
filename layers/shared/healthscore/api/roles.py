"""Who is calling and with which roles: the one place the API decides that.

API Gateway has already authenticated the request. A JWT route carries the Lambda
authorizer's context (`requestContext.authorizer.lambda`: `sub`, and `roles` as a
comma-separated string, since the authorizer context takes only scalars); an AWS_IAM
route carries the signing principal (`requestContext.authorizer.iam.userArn`, for a role's
credentials `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`), whose roles come from IAM_ROLE_MAP.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Final

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from healthscore.api.problems import NotAuthenticatedError, NotAuthorizedError
from healthscore.auth.principal import ROLES, Principal
from healthscore.config import Role, get_settings

API_ROLES: Final[frozenset[Role]] = ROLES  # every route: CLIENT_SUCCESS or PLATFORM_ADMIN
ADMIN_ROLES: Final[frozenset[Role]] = frozenset({"PLATFORM_ADMIN"})

# The authorized caller of the request being handled (set by `require_roles`), for routes that record it.
_current_principal: ContextVar[Principal] = ContextVar("current_principal")


def caller(event: APIGatewayProxyEventV2) -> Principal:
    """The principal of the authorizer context the request carries; NotAuthenticatedError without one."""
    authorizer = event.request_context.authorizer
    context = authorizer.get_lambda if authorizer else {}
    if context.get("sub"):
        return Principal(str(context["sub"]), _known_roles(context.get("roles")))
    iam = authorizer.iam if authorizer else None
    if iam and iam.user_arn:
        return Principal(iam.user_arn, get_settings().roles_for_principal(iam.user_arn))
    raise NotAuthenticatedError("Unauthorized: the request carries no credentials")


def _known_roles(value: Any) -> frozenset[Role]:
    names = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    return frozenset(role for role in ROLES if role in {str(name).strip() for name in names})


def authorize(event: APIGatewayProxyEventV2, allowed: frozenset[Role]) -> Principal:
    """The caller, if it holds one of the `allowed` roles; NotAuthorizedError otherwise."""
    principal = caller(event)
    if not principal.roles & allowed:
        raise NotAuthorizedError(f"Forbidden: this operation needs the role {' or '.join(sorted(allowed))}")
    return principal


Middleware = Callable[[EventHandlerInstance, NextMiddleware], Response]


def require_roles(allowed: frozenset[Role]) -> Middleware:
    """A route middleware refusing callers without one of the `allowed` roles."""

    def require(app: EventHandlerInstance, next_middleware: NextMiddleware) -> Response:
        principal = authorize(app.current_event, allowed)  # type: ignore[arg-type]  # an HTTP API resolver's event is v2
        token = _current_principal.set(principal)
        try:
            return next_middleware(app)
        finally:
            _current_principal.reset(token)

    return require


def current_principal() -> Principal:
    """The caller of the route being handled (behind `require_roles`)."""
    return _current_principal.get()
