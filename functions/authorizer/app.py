"""JWT Lambda authorizer: HTTP API, REQUEST type, payload 2.0, simple responses (README: the HTTP API).

It refuses, never raises, whatever a request carries: API Gateway answers 403 to a refusal,
while an exception would become a 500. No Tracer: importing X-Ray costs about half a second
of cold start on the path of every first request.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthscore.auth.bearer import authenticate, get_verifier
from healthscore.auth.tokens import TokenRejected
from healthscore.auth.unavailable import count_unavailable
from healthscore.config import ConfigError

logger = Logger()
get_verifier()  # bad configuration fails the cold start with a ConfigError naming the variable


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        principal = authenticate(_authorization_header(event))
    except TokenRejected as exc:
        logger.info("request refused", extra={"reason": exc.reason})
        return _refusal()
    except ConfigError as exc:
        logger.error("authorizer misconfigured; request refused", extra={"reason": str(exc)})
        count_unavailable()
        return _refusal()
    except Exception as exc:
        # Fail closed. Only the type is logged: a message could quote the request's token.
        logger.error("unexpected error; request refused", extra={"error_type": type(exc).__name__})
        count_unavailable()
        return _refusal()
    logger.debug("request authorized", extra={"sub": principal.subject, "roles": sorted(principal.roles)})
    return {"isAuthorized": True, "context": principal.authorizer_context()}


def _authorization_header(event: dict[str, Any]) -> object:
    request = APIGatewayAuthorizerEventV2(event)
    # The data class's `headers` is case-insensitive but assumes the key is present.
    return request.headers.get("authorization") if isinstance(request.get("headers"), dict) else None


def _refusal() -> dict[str, Any]:
    return {"isAuthorized": False, "context": {}}
