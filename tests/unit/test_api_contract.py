"""The API's published contract: the checked-in openapi.json, the template's routes, the local events."""

from __future__ import annotations

import json
from pathlib import Path

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.parser.models.apigwv2 import ApiGatewayAuthorizerRequestV2
from test_template import load_template, template_routes

from healthscore.api.resolver import openapi_json
from healthscore.api.routes import IAM_PREFIX, JWT_PREFIX
from healthscore_dev.local.http_server import HttpRequest, authorizer_event, request_event, template_api_routes

ROOT = Path(__file__).resolve().parents[2]
AUTH_OF_SCHEME = {"portalJwt": "JwtAuthorizer", "awsIam": "AWS_IAM"}


def test_the_checked_in_openapi_document_is_current() -> None:
    checked_in = (ROOT / "openapi.json").read_text(encoding="utf-8")

    assert checked_in == openapi_json(), "openapi.json is stale: run `make openapi` and commit it"


def test_the_api_serves_exactly_the_template_routes_with_their_auth() -> None:
    paths = json.loads(openapi_json())["paths"]
    documented = {
        (method.upper(), path, AUTH_OF_SCHEME[next(iter(operation["security"][0]))])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    documents = {
        ("GET", f"{JWT_PREFIX}/openapi.json", "JwtAuthorizer"),
        ("GET", f"{JWT_PREFIX}/swagger", "JwtAuthorizer"),
    }

    assert documented | documents == template_routes()
    assert {path.removeprefix("/iam") for _, path, auth in documented if auth == "AWS_IAM"} == {
        path for _, path, auth in documented if auth == "JwtAuthorizer"
    }
    assert all(path.startswith((JWT_PREFIX, IAM_PREFIX)) for _, path, _ in documented)


def test_the_local_server_uses_the_template_route_table() -> None:
    routes = template_api_routes(load_template())

    assert {(route.method, route.path, route.authorizer) for route in routes.routes} == template_routes()
    assert routes.identity_headers == {"JwtAuthorizer": ["authorization"]}


def test_the_local_server_builds_api_gateway_v2_events() -> None:
    route = next(r for r in template_api_routes(load_template()).routes if r.path.endswith("/history"))
    request = HttpRequest(
        method="GET",
        target=f"{JWT_PREFIX}/scores/abc/history?days=7&x=1&x=2",
        headers=[("Host", "127.0.0.1:3000"), ("Authorization", "Bearer t"), ("X-Dup", "a"), ("x-dup", "b")],
        body=b"",
        source_ip="127.0.0.1",
    )
    path_parameters = route.match("GET", f"{JWT_PREFIX}/scores/abc/history")
    assert path_parameters == {"organizationId": "abc"}

    event = request_event(request, route, path_parameters)
    authorizer = authorizer_event(event, ["Bearer t"])

    parsed = APIGatewayProxyEventV2Model.model_validate(event)
    assert parsed.routeKey == f"GET {JWT_PREFIX}/scores/{{organizationId}}/history"
    assert parsed.rawQueryString == "days=7&x=1&x=2"
    assert parsed.queryStringParameters == {"days": "7", "x": "1,2"}
    assert parsed.headers["x-dup"] == "a,b"
    assert parsed.pathParameters == {"organizationId": "abc"}
    assert parsed.requestContext.http.method == "GET"
    assert ApiGatewayAuthorizerRequestV2.model_validate(authorizer).identitySource == ["Bearer t"]
