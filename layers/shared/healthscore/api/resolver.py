"""The API's resolver: routes, error mapping and the OpenAPI document, built once per environment."""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

from healthscore.api.errors import register_error_handlers
from healthscore.api.routes import JWT_PREFIX, register_routes

OPENAPI_INFO: Final[dict[str, Any]] = {
    "title": "Client health scoring API",
    "version": "1.0.0",
    "description": (
        "Health scores, usage metrics and feature adoption of client organizations, for the internal operations"
        f" portal ({JWT_PREFIX}, bearer JWT) and for machine callers (/iam{JWT_PREFIX}, AWS SigV4)."
        " Every operation needs the role CLIENT_SUCCESS or PLATFORM_ADMIN."
    ),
    "security_schemes": {
        "portalJwt": HTTPBearer(bearerFormat="JWT", description="A portal token, verified by the Lambda authorizer"),
        "awsIam": APIKey(
            name="Authorization",
            in_=APIKeyIn.header,
            description="AWS Signature Version 4; the principal's roles come from IAM_ROLE_MAP",
        ),
    },
}

app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app)
register_routes(app)


@cache
def openapi_json() -> str:
    """The OpenAPI document, as served and as checked in (`healthscore api openapi`)."""
    return app.get_openapi_json_schema(**OPENAPI_INFO) + "\n"


# The documents describe the API, not its data: no role check here (the JWT authorizer guards them).
@app.get(f"{JWT_PREFIX}/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json())


app.enable_swagger(path=f"{JWT_PREFIX}/swagger", persist_authorization=True, **OPENAPI_INFO)
