"""The API's routes (README: the HTTP API; openapi.json), each served under both path prefixes.

`/api/v1/internal/client-health` is for the portal (JWT Lambda authorizer) and
`/iam/api/v1/internal/client-health` for machine callers (AWS_IAM); a route is written
once here and registered for both by `register_routes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, Final, get_type_hints
from uuid import UUID

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from healthscore.api import profile_service, service
from healthscore.api.roles import ADMIN_ROLES, API_ROLES, current_principal, require_roles
from healthscore.config import Role
from healthscore.core.metrics import MetricType
from healthscore.core.profiles import PROFILE_ID_PATTERN
from healthscore.core.scoring import RiskLevel, Trend
from healthscore.dal.connection import get_connection
from healthscore.dal.latest_scores import ScoreFilters
from healthscore.models.api import (
    Adoption,
    ErrorBody,
    HistoryBasis,
    MetricHistory,
    OverrideHistory,
    OverrideRequest,
    PortfolioSummary,
    RecalculationQueued,
    RestatementStarted,
    RestateRequest,
    RiskOverride,
    RunInProgress,
    RunProgress,
    RunStarted,
    ScoreDetail,
    ScoreHistory,
    ScoreList,
    SortBy,
    SortOrder,
)
from healthscore.models.profiles import ProfileBody, ProfileList, ProfileOut, ProfilePreview

JWT_PREFIX: Final = "/api/v1/internal/client-health"
IAM_PREFIX: Final = "/iam/api/v1/internal/client-health"
# Each prefix's OpenAPI security scheme (declared in resolver.OPENAPI_INFO) and tag.
PREFIXES: Final = {JWT_PREFIX: ("portalJwt", "portal (JWT)"), IAM_PREFIX: ("awsIam", "machine callers (AWS_IAM)")}

ERROR_RESPONSES: Final = {
    HTTPStatus.BAD_REQUEST: "A parameter that cannot be used (named in the message)",
    HTTPStatus.UNAUTHORIZED: "No credentials",
    HTTPStatus.FORBIDDEN: "The caller lacks the role",
    HTTPStatus.NOT_FOUND: "Unknown organization, run or profile, or nothing scored yet",
    HTTPStatus.CONFLICT: "Not possible in the resource's current state (e.g. deleting the default profile)",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "A body sent with a Content-Type other than application/json",
    HTTPStatus.UNPROCESSABLE_ENTITY: "A parameter failed validation (named in the message)",
    HTTPStatus.INTERNAL_SERVER_ERROR: "Unexpected error; quote the correlationId",
    HTTPStatus.SERVICE_UNAVAILABLE: "The database is unavailable for now; retry after Retry-After seconds",
}

OrganizationId = Annotated[UUID, Path(alias="organizationId", description="The organization's id (a UUID)")]
Days = Annotated[int, Query(ge=1, le=365, description="How many days back, today included")]
ProfileId = Annotated[
    str, Path(alias="profileId", pattern=PROFILE_ID_PATTERN, description="The profile's id, a slug: ^[a-z0-9-]{1,64}$")
]
ProfileBodyParameter = Annotated[
    ProfileBody,
    Body(description="A whole profile, as GET /profiles shows one (PUT replaces it); a profileId must be the path's"),
]


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str  # after the prefix, with API Gateway's {parameter} syntax
    handler: Callable[..., Any]
    summary: str
    roles: frozenset[Role]
    status_code: HTTPStatus
    responses: dict[HTTPStatus, tuple[str, type]]  # the route's own answers besides the common errors


ROUTES: list[RouteSpec] = []


def route(
    method: str,
    path: str,
    summary: str,
    *,
    roles: frozenset[Role] = API_ROLES,
    status_code: HTTPStatus = HTTPStatus.OK,
    responses: dict[HTTPStatus, tuple[str, type]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def add(handler: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(RouteSpec(method, path, handler, summary, roles, status_code, responses or {}))
        return handler

    return add


@route("GET", "/scores", "Latest score of every tenant, filtered and sorted, a page at a time")
def list_scores(
    risk_level: Annotated[RiskLevel | None, Query(alias="riskLevel")] = None,
    trend: Annotated[Trend | None, Query()] = None,
    min_score: Annotated[int | None, Query(alias="minScore", ge=0, le=100)] = None,
    max_score: Annotated[int | None, Query(alias="maxScore", ge=0, le=100)] = None,
    sort_by: Annotated[SortBy, Query(alias="sortBy")] = "overallScore",
    order: Annotated[SortOrder, Query()] = "asc",
    newly_high_risk: Annotated[
        bool,
        Query(
            alias="newlyHighRisk",
            description="true: only the tenants whose effective risk is HIGH and whose previous score's was not",
        ),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=1024, description="nextCursor of the previous page")] = None,
) -> ScoreList:
    filters = ScoreFilters(
        risk_level=risk_level, trend=trend, min_score=min_score, max_score=max_score, newly_high_risk=newly_high_risk
    )
    query = service.ScoreListQuery(filters=filters, sort_by=sort_by, order=order, limit=limit, cursor=cursor)
    return service.list_scores(get_connection(), query)


@route("GET", "/scores/{organizationId}", "A tenant's latest score, its components and what changed it")
def get_score(organization_id: OrganizationId) -> ScoreDetail:
    return service.score_detail(get_connection(), organization_id)


@route("GET", "/scores/{organizationId}/history", "A tenant's daily scores, oldest first")
def get_score_history(
    organization_id: OrganizationId,
    days: Days = 30,
    basis: Annotated[
        HistoryBasis, Query(description="restated: each day's restated point where one exists (else computed)")
    ] = "computed",
) -> ScoreHistory:
    return service.score_history(get_connection(), organization_id, days, basis)


@route(
    "POST",
    "/scores/{organizationId}/recalculate",
    "Queue a new score for a tenant",
    status_code=HTTPStatus.ACCEPTED,
)
def recalculate(organization_id: OrganizationId) -> RecalculationQueued:
    return service.recalculate(get_connection(), organization_id)


@route("PUT", "/scores/{organizationId}/override", "Set a tenant's risk level by hand until it expires")
def put_override(organization_id: OrganizationId, body: Annotated[OverrideRequest, Body()]) -> RiskOverride:
    return service.set_override(get_connection(), organization_id, body, set_by=_principal())


@route(
    "DELETE",
    "/scores/{organizationId}/override",
    "Clear a tenant's active risk override",
    status_code=HTTPStatus.NO_CONTENT,
)
def delete_override(organization_id: OrganizationId) -> Response[None]:
    service.clear_override(get_connection(), organization_id, cleared_by=_principal())
    return Response(HTTPStatus.NO_CONTENT)


@route("GET", "/scores/{organizationId}/overrides", "Every risk override set on a tenant, newest first")
def get_overrides(organization_id: OrganizationId) -> OverrideHistory:
    return service.override_history(get_connection(), organization_id)


@route("GET", "/summary", "The portfolio at a glance: tenants by effective risk and trend, newly high risk")
def get_summary() -> PortfolioSummary:
    return service.summary(get_connection())


def _principal() -> str:
    """Who is calling (the authorizer's subject or the IAM principal), recorded with what they save."""
    return current_principal().subject


@route("GET", "/metrics/{organizationId}", "A tenant's daily values of one usage metric, oldest first")
def get_metrics(
    organization_id: OrganizationId,
    metric_type: Annotated[MetricType, Query(alias="metricType")],
    days: Days = 30,
) -> MetricHistory:
    return service.metric_history(get_connection(), organization_id, metric_type, days)


@route("GET", "/adoption/{organizationId}", "A tenant's enabled and used features")
def get_adoption(organization_id: OrganizationId) -> Adoption:
    return service.adoption(get_connection(), organization_id)


@route(
    "POST",
    "/calculate-all",
    "Score every active tenant now (PLATFORM_ADMIN); follow it with GET /runs/{runId}",
    roles=ADMIN_ROLES,
    status_code=HTTPStatus.ACCEPTED,
    responses={HTTPStatus.CONFLICT: ("A calculate-scores run is still in progress (its runId)", RunInProgress)},
)
def calculate_all() -> RunStarted:
    return service.calculate_all(get_connection())


@route("GET", "/runs/{runId}", "Progress of a run")
def get_run(run_id: Annotated[str, Path(alias="runId", max_length=128)]) -> RunProgress:
    return service.run_progress(get_connection(), run_id)


@route("GET", "/profiles", "The active version of every scoring profile")
def list_profiles() -> ProfileList:
    return profile_service.list_profiles(get_connection())


@route("PUT", "/profiles/{profileId}", "Save a scoring profile as its new version (PLATFORM_ADMIN)", roles=ADMIN_ROLES)
def put_profile(profile_id: ProfileId, body: ProfileBodyParameter) -> ProfileOut:
    return profile_service.save_profile(
        get_connection(), profile_id, profile_service.body_document(profile_id, body), _principal()
    )


@route(
    "DELETE",
    "/profiles/{profileId}",
    "Stop a scoring profile scoring (PLATFORM_ADMIN; not the default)",
    roles=ADMIN_ROLES,
    status_code=HTTPStatus.NO_CONTENT,
)
def delete_profile(profile_id: ProfileId) -> None:
    profile_service.delete_profile(get_connection(), profile_id)


@route("POST", "/profiles/{profileId}/preview", "What a candidate profile would do to the fleet; nothing is written")
def preview_profile(profile_id: ProfileId, body: ProfileBodyParameter) -> ProfilePreview:
    return profile_service.preview_profile(
        get_connection(), profile_id, profile_service.body_document(profile_id, body)
    )


@route(
    "POST",
    "/profiles/{profileId}/restate",
    "Restate the stored history of the profile's tenants under its active version (PLATFORM_ADMIN)",
    roles=ADMIN_ROLES,
    status_code=HTTPStatus.ACCEPTED,
    responses={HTTPStatus.CONFLICT: ("A restatement of the profile is still in progress (its runId)", RunInProgress)},
)
def restate_profile(profile_id: ProfileId, days: Annotated[RestateRequest, Body()]) -> RestatementStarted:
    return profile_service.restate_profile(get_connection(), profile_id, days, service.utc_now().date())


def route_roles(route_key: str | None) -> frozenset[Role]:
    """The roles the route of an API Gateway `routeKey` ("PUT /api/.../profiles/{profileId}") needs."""
    for prefix in PREFIXES:
        for spec in ROUTES:
            if route_key == f"{spec.method} {prefix}{spec.path}":
                return spec.roles
    return API_ROLES


def register_routes(app: APIGatewayHttpResolver) -> None:
    """Register every route under both prefixes, each behind its role check."""
    for prefix, (scheme, tag) in PREFIXES.items():
        for spec in ROUTES:
            app.route(
                prefix + powertools_rule(spec.path),
                spec.method,
                summary=spec.summary,
                tags=[tag],
                security=[{scheme: []}],
                status_code=spec.status_code,
                responses=_responses(spec),
                middlewares=[require_roles(spec.roles)],
            )(spec.handler)


def powertools_rule(path: str) -> str:
    """`/scores/{organizationId}` as Powertools writes it: `/scores/<organizationId>`."""
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


def _responses(spec: RouteSpec) -> dict[int, Any]:
    """The success body and every error body, for the OpenAPI document."""
    success: dict[str, Any] = {"description": spec.status_code.phrase}  # 204: no body
    if spec.status_code != HTTPStatus.NO_CONTENT:
        success = _response(spec.status_code.phrase, get_type_hints(spec.handler)["return"])
    return {
        int(spec.status_code): success,
        **{int(status): _response(description, ErrorBody) for status, description in ERROR_RESPONSES.items()},
        **{int(status): _response(description, model) for status, (description, model) in spec.responses.items()},
    }


def _response(description: str, model: type) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}
