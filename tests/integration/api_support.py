"""Helpers of the API tests: API Gateway v2 events from `events/`, the real handler, scored tenants.

Import with `from api_support import ...` (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from factories import add_feature, add_org, add_tickets, add_users
from handlers import lambda_context, load_handler

from healthscore.api.routes import IAM_PREFIX, JWT_PREFIX
from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.dal.connection import DbConnection
from healthscore.logic.record_metrics import record_metrics
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantRequest

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
# The principal of api_get_scores_iam.json, as API Gateway reports a caller signing with a role's credentials.
OPS_ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/ops-tooling/ops-session"
CONTEXT = lambda_context(function_name="ApiFunction")
# A profile's weights other than the default's (they sum to 1).
PROFILE_WEIGHTS = {
    "login": 0.2,
    "caseResolution": 0.1,
    "campaignCompletion": 0.35,
    "featureAdoption": 0.3,
    "supportTickets": 0.05,
}


@cache
def _event_file(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


def api_event(
    route: str,
    *,
    path: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    roles: str | None = "CLIENT_SUCCESS",
    iam_arn: str | None = None,
    body: Any = None,
    sub: str = "csm-1",
) -> dict[str, Any]:
    """The v2 event of `route` (e.g. "GET /scores/{organizationId}", after the prefix).

    From events/api_get_scores.json with the authorizer context {"sub", "roles"}
    (`roles=None`: no authorizer context at all), or from api_get_scores_iam.json
    signed by `iam_arn`. A `body` is sent as JSON.
    """
    method, template = route.split(" ", 1)
    event = copy.deepcopy(_event_file("api_get_scores_iam.json" if iam_arn else "api_get_scores.json"))
    prefix = IAM_PREFIX if iam_arn else JWT_PREFIX
    context = event["requestContext"]
    raw_path = f"/{context['stage']}{prefix}{template.format(**(path or {}))}"
    event.update(routeKey=f"{method} {prefix}{template}", rawPath=raw_path, rawQueryString=urlencode(query or {}))
    context.update(routeKey=event["routeKey"])
    context["http"].update(method=method, path=raw_path)
    event.pop("queryStringParameters", None)
    if query:
        event["queryStringParameters"] = {name: str(value) for name, value in query.items()}
    if path:
        event["pathParameters"] = {name: str(value) for name, value in path.items()}
    if body is not None:
        event.update(body=json.dumps(body), isBase64Encoded=False)
        event.setdefault("headers", {})["content-type"] = "application/json"
    if iam_arn:
        context["authorizer"]["iam"]["userArn"] = iam_arn
    elif roles is None:
        del context["authorizer"]
    else:
        context["authorizer"] = {"lambda": {"sub": sub, "roles": roles}}
    return event


@cache
def _handler() -> Any:
    return load_handler("api").lambda_handler


def invoke_api(event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the real functions/api/app.py handler; its raw API Gateway response."""
    response: dict[str, Any] = _handler()(event, CONTEXT)
    return response


def call_api(event: dict[str, Any]) -> tuple[int, Any]:
    """Invoke the real functions/api/app.py handler; (status, parsed JSON body or None without one)."""
    response = invoke_api(event)
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def request(route: str, **kwargs: Any) -> tuple[int, Any]:
    return call_api(api_event(route, **kwargs))


def add_scored_tenants(conn: DbConnection, count: int) -> list[UUID]:
    """`count` ACTIVE tenants of varied usage, with metrics and scores yesterday and today.

    Scores repeat every four tenants (ties exercise the keyset's id tie-break); the even
    ones got tickets since yesterday, so today's support-ticket score drove a change.
    """
    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    ids = []
    for index in range(count):
        org_id = add_org(conn, name=f"Tenant {index:02d}")
        active = index % 4 + 1
        add_users(conn, org_id, [now - timedelta(days=3)] * active + [None] * (5 - active))
        add_feature(conn, org_id, "reports", enabled=True, is_used=True, last_used_at=now - timedelta(days=1))
        add_feature(conn, org_id, "sso", enabled=True, is_used=index % 2 == 0)
        add_feature(conn, org_id, "mobile", enabled=False, is_used=False)
        ids.append(org_id)
    _score_and_record(conn, ids, yesterday)
    for org_id in ids[::2]:
        add_tickets(conn, org_id, [now - timedelta(hours=1)] * 4)
    _score_and_record(conn, ids, now)
    return ids


def _score_and_record(conn: DbConnection, ids: list[UUID], as_of: datetime) -> None:
    requests = [TenantRequest(org_id, as_of, f"run-{as_of:%Y%m%d}") for org_id in ids]
    score_tenants(conn, requests, ProfileSet([default_profile()]))
    record_metrics(conn, requests)
