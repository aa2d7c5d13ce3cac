"""The API's resolver: routes, error mapping and the OpenAPI document, built once per environment.

Powertools' OpenAPI models (`event_handler.openapi.models`) are imported only when a document is
asked for: building them costs the api 75 ms of cold start (median of 7, bench/cold_start.py),
and no scoring request needs them. So the security schemes are made, and the Swagger UI served,
on first use rather than through `app.enable_swagger` (which imports those models when called).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from healthscore.api.errors import register_error_handlers
from healthscore.api.routes import JWT_PREFIX, register_routes

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme

OPENAPI_INFO: Final[dict[str, Any]] = {
    "title": "Client health scoring API",
    "version": "1.0.0",
    "description": (
        "Health scores, usage metrics and feature adoption of client organizations, for the internal operations"
        f" portal ({JWT_PREFIX}, bearer JWT) and for machine callers (/iam{JWT_PREFIX}, AWS SigV4)."
        " Every operation needs the role CLIENT_SUCCESS or PLATFORM_ADMIN."
    ),
}

app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app)
register_routes(app)


def security_schemes() -> dict[str, SecurityScheme]:
    """The document's security schemes (routes.py names them per prefix)."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    return {
        "portalJwt": HTTPBearer(bearerFormat="JWT", description="A portal token, verified by the Lambda authorizer"),
        "awsIam": APIKey(
            name="Authorization",
            in_=APIKeyIn.header,
            description="AWS Signature Version 4; the principal's roles come from IAM_ROLE_MAP",
        ),
    }


@cache
def openapi_json() -> str:
    """The OpenAPI document, as served and as checked in (`healthscore api openapi`)."""
    return app.get_openapi_json_schema(**OPENAPI_INFO, security_schemes=security_schemes()) + "\n"


@cache
def swagger_html() -> str:
    """Powertools' Swagger UI page (its bundled script and style inlined) over the served document."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    return generate_swagger_html(
        openapi_json().replace("</", "<\\/"),  # as Powertools escapes it: no </script> inside the page's script
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
        persist_authorization=True,
    )


# The documents describe the API, not its data: no role check here (the JWT authorizer guards them).
@app.get(f"{JWT_PREFIX}/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json())


@app.get(f"{JWT_PREFIX}/swagger", include_in_schema=False)
def swagger_page() -> Response[str]:
    if (app.current_event.query_string_parameters or {}).get("format") == "json":
        return openapi_document()
    return Response(status_code=200, content_type=content_types.TEXT_HTML, body=swagger_html())
