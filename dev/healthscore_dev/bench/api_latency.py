"""The API's routes through the real handler, in-process: p50/p95/p99 over `calls` calls each.

The what-if preview re-scores the whole fleet per call (about 1.1-1.5 s at 10,000 tenants), so it
is measured over its own smaller count, `preview_calls`; the table's calls column says which.

Each call is functions/api/app.py's `lambda_handler` with an API Gateway v2 event of the
shape of events/api_get_scores.json (the authorizer's context of a CLIENT_SUCCESS user), the
tenant changing from call to call. Each route is one `RouteCase`: a route that is not on
this branch (no such entry in healthscore.api.routes.ROUTES) is left out of the table.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from healthscore.api.routes import JWT_PREFIX, ROUTES
from healthscore_dev.bench.cold_start import PROJECT_ROOT

EVENT_FILE = PROJECT_ROOT / "events" / "api_get_scores.json"
BENCH_ENVIRONMENT = 99  # a module of its own (load_handler), apart from any other caller's in this process


@dataclass(frozen=True)
class RouteCase:
    name: str
    method: str
    path: str  # the route's template, after the prefix
    # tenant -> (path parameters, query string parameters) of one call
    request: Callable[[UUID], tuple[dict[str, str], dict[str, str]]]
    body: Callable[[UUID], dict[str, Any]] | None = None
    costly: bool = False  # measured `preview_calls` times instead of `calls`


# The preview's candidate: no segment, so it matches every tenant (the worst case: all re-scored).
PREVIEW_CANDIDATE: dict[str, Any] = {
    "priority": 1,
    "weights": {
        "login": 0.2,
        "caseResolution": 0.1,
        "campaignCompletion": 0.35,
        "featureAdoption": 0.3,
        "supportTickets": 0.05,
    },
    "missingData": "neutral",
}
PREVIEW_PROFILE_ID = "everyone"


CALCULATED_AT_DESC = {"sortBy": "calculatedAt", "order": "desc"}


def _page(sort: dict[str, str]) -> RouteCase:
    """The first page of 50 of the unfiltered list in one sort order."""
    query = sort | {"limit": "50"}
    return RouteCase(f"GET /scores?{urlencode(query)}", "GET", "/scores", lambda org: ({}, query))


# One entry per route measured; a route of another branch is one more entry here.
ROUTE_CASES = (
    RouteCase("GET /scores/{id}", "GET", "/scores/{organizationId}", lambda org: ({"organizationId": str(org)}, {})),
    RouteCase(
        "GET /scores/{id}/history?days=90",
        "GET",
        "/scores/{organizationId}/history",
        lambda org: ({"organizationId": str(org)}, {"days": "90"}),
    ),
    RouteCase(
        "GET /scores?riskLevel=HIGH&limit=50", "GET", "/scores", lambda org: ({}, {"riskLevel": "HIGH", "limit": "50"})
    ),
    RouteCase(
        "GET /scores?newlyHighRisk=true&limit=50",
        "GET",
        "/scores",
        lambda org: ({}, {"newlyHighRisk": "true", "limit": "50"}),
    ),
    *(_page(sort) for sort in ({"sortBy": "overallScore"}, {"sortBy": "organizationName"}, CALCULATED_AT_DESC)),
    RouteCase("GET /summary", "GET", "/summary", lambda org: ({}, {})),
    RouteCase(
        f"POST /profiles/{PREVIEW_PROFILE_ID}/preview",
        "POST",
        "/profiles/{profileId}/preview",
        lambda org: ({"profileId": PREVIEW_PROFILE_ID}, {}),
        body=lambda org: PREVIEW_CANDIDATE,
        costly=True,
    ),
)


@dataclass(frozen=True)
class RouteLatency:
    name: str
    calls: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int  # answers other than 2xx


def available(case: RouteCase) -> bool:
    return any(spec.method == case.method and spec.path == case.path for spec in ROUTES)


def measure_routes(tenants: list[UUID], calls: int, preview_calls: int) -> list[RouteLatency]:
    from healthscore_dev.local.handlers import load_handler
    from healthscore_dev.local.lambda_context import LocalLambdaContext

    handler = load_handler("api", BENCH_ENVIRONMENT).lambda_handler
    context = LocalLambdaContext("ApiFunction", timeout_seconds=30)
    results = []
    for case in ROUTE_CASES:
        if not available(case):
            continue
        count = preview_calls if case.costly else calls
        events = [_event(case, tenants[i % len(tenants)]) for i in range(count)]
        handler(events[0], context)  # warm-up: the connection, the route's first plan
        seconds = []
        errors = 0
        for event in events:
            started = time.perf_counter()
            response = handler(event, context)
            seconds.append(time.perf_counter() - started)
            errors += not 200 <= response["statusCode"] < 300
        ms = sorted(s * 1000 for s in seconds)
        results.append(
            RouteLatency(case.name, count, percentile(ms, 0.50), percentile(ms, 0.95), percentile(ms, 0.99), errors)
        )
    return results


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@cache
def _event_template() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENT_FILE.read_text())
    return event


def _event(case: RouteCase, tenant: UUID) -> dict[str, Any]:
    path, query = case.request(tenant)
    event = copy.deepcopy(_event_template())
    context = event["requestContext"]
    raw_path = f"/{context['stage']}{JWT_PREFIX}{case.path.format(**path)}"
    event.update(routeKey=f"{case.method} {JWT_PREFIX}{case.path}", rawPath=raw_path, rawQueryString=urlencode(query))
    context.update(routeKey=event["routeKey"])
    context["http"].update(method=case.method, path=raw_path)
    event.pop("queryStringParameters", None)
    if query:
        event["queryStringParameters"] = query
    if path:
        event["pathParameters"] = path
    if case.body is not None:
        event.update(body=json.dumps(case.body(tenant)), isBase64Encoded=False)
        event.setdefault("headers", {})["content-type"] = "application/json"
    context["authorizer"] = {"lambda": {"sub": "bench", "roles": "CLIENT_SUCCESS,PLATFORM_ADMIN"}}
    return event
