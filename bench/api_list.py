"""GET /scores pages and GET /summary through the API handler, in-process, at fleet scale.

    .venv/bin/python bench/api_list.py [--tenants 10000] [--calls 1000] [--explain docs/explain.md]

The bench database (see benchlib) gets two days of scores for every ACTIVE tenant (so trends,
previous scores and newly-high-risk tenants exist) and overrides on 1% of them, half of which
have lapsed (the list reads those through their own branch). Then each request is sent
`--calls` times to functions/api/app.py's handler, as API Gateway would (the portal's JWT route
with an authorizer context), and its p50/p95/p99 printed. `--explain` writes EXPLAIN (ANALYZE,
BUFFERS) of each list and summary statement as markdown. "SQL" columns time the statements
alone through the dal (with the snapshot query of a first page), without the handler.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchlib import (
    BENCH_AS_OF,
    PROJECT_ROOT,
    active_ids,
    bench_database,
    parser,
    percentile,
    print_table,
    quiet_powertools,
)
from psycopg import sql

from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.dal import latest_scores
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_scores import PageRequest, ScoreFilters
from healthscore.logic.overrides import NewOverride, set_override
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantRequest
from healthscore.models.api import NEWLY_HIGH_RISK_LIMIT

PREFIX = "/api/v1/internal/client-health"
SCORING_CHUNK = 1000
OVERRIDE_EVERY = 100  # 1% of the tenants have an override
RUN_IDS = ("bench-list-day-1", "bench-list-day-2")

REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET /scores?riskLevel=HIGH&limit=50", "/scores", {"riskLevel": "HIGH", "limit": 50}),
    ("GET /scores?sortBy=overallScore&limit=50", "/scores", {"sortBy": "overallScore", "limit": 50}),
    (
        "GET /scores?sortBy=organizationName&limit=50",
        "/scores",
        {"sortBy": "organizationName", "limit": 50},
    ),
    (
        "GET /scores?sortBy=calculatedAt&order=desc&limit=50",
        "/scores",
        {"sortBy": "calculatedAt", "order": "desc", "limit": 50},
    ),
    ("GET /scores?trend=DECLINING&limit=50", "/scores", {"trend": "DECLINING", "limit": 50}),
    ("GET /scores?minScore=40&maxScore=60&limit=50", "/scores", {"minScore": 40, "maxScore": 60, "limit": 50}),
    ("GET /scores?riskLevel=HIGH&limit=50, page 2", "/scores", {"riskLevel": "HIGH", "limit": 50, "page": 2}),
    ("GET /scores?newlyHighRisk=true&limit=50", "/scores", {"newlyHighRisk": "true", "limit": 50}),
    ("GET /scores?newlyHighRisk=true&limit=50, page 2", "/scores", {"newlyHighRisk": "true", "limit": 50, "page": 2}),
    ("GET /summary", "/summary", {}),
]


def ensure_scores(conn: DbConnection) -> None:
    """Two days of scores for every ACTIVE tenant and the overrides, unless already there."""
    ids = active_ids(conn)
    overridden = conn.execute("SELECT 1 FROM risk_overrides WHERE set_by = 'bench' LIMIT 1").fetchone()
    scored = conn.execute("SELECT 1 FROM tenant_health_scores WHERE run_id = %s LIMIT 1", (RUN_IDS[1],)).fetchone()
    if overridden and scored:  # (a reseeded fleet has neither)
        return  # scored and overridden by an earlier run
    started = time.perf_counter()
    for run_id, as_of in zip(RUN_IDS, (BENCH_AS_OF - timedelta(days=1), BENCH_AS_OF), strict=True):
        for start in range(0, len(ids), SCORING_CHUNK):
            requests = [TenantRequest(org_id, as_of, run_id) for org_id in ids[start : start + SCORING_CHUNK]]
            score_tenants(conn, requests, ProfileSet([default_profile()]))
    now = datetime.now(UTC)
    for index, org_id in enumerate(ids[::OVERRIDE_EVERY]):
        # Half active for a week, half set two hours ago and lapsed an hour ago.
        set_at = now if index % 2 == 0 else now - timedelta(hours=2)
        expires_at = now + timedelta(days=7) if index % 2 == 0 else now - timedelta(hours=1)
        level = ("HIGH", "MEDIUM", "LOW")[index % 3]
        new = NewOverride(level, "bench override", expires_at)
        set_override(conn, org_id, new, set_by="bench", now=set_at, bus_name=None)
    conn.execute("VACUUM ANALYZE tenant_latest_scores")
    conn.execute("VACUUM ANALYZE risk_overrides")
    print(f"scored {len(ids):,} tenants for 2 days and set overrides in {time.perf_counter() - started:.1f} s")


def api_event(path: str, query: dict[str, Any]) -> dict[str, Any]:
    event = json.loads((PROJECT_ROOT / "events" / "api_get_scores.json").read_text())
    context = event["requestContext"]
    raw_path = f"/{context['stage']}{PREFIX}{path}"
    event.update(routeKey=f"GET {PREFIX}{path}", rawPath=raw_path, rawQueryString=urlencode(query))
    event["queryStringParameters"] = {name: str(value) for name, value in query.items()} or None
    context.update(routeKey=event["routeKey"])
    context["http"].update(method="GET", path=raw_path)
    context["authorizer"] = {"lambda": {"sub": "bench", "roles": "CLIENT_SUCCESS"}}
    return event


def measure(handler: Any, context: Any, path: str, query: dict[str, Any], calls: int) -> tuple[list[float], int]:
    """Seconds of each call, and the items of the last answer's page (or newlyHighRisk)."""
    query = dict(query)
    if query.pop("page", None):  # the second page: the first page's cursor
        first = json.loads(handler(api_event(path, query), context)["body"])
        query["cursor"] = first["nextCursor"]
    event = api_event(path, query)
    for _ in range(max(10, calls // 20)):  # warm-up: imports, plans, caches
        handler(event, context)
    seconds = []
    body: dict[str, Any] = {}
    for _ in range(calls):
        started = time.perf_counter()
        response = handler(event, context)
        seconds.append(time.perf_counter() - started)
        assert response["statusCode"] == 200, response["body"]
        body = json.loads(response["body"])
    return seconds, len(body.get("items", body.get("newlyHighRisk", [])))


SQL_ONLY: dict[str, tuple[str, str | None, bool]] = {  # request -> (sort, risk filter, descending)
    "GET /scores?riskLevel=HIGH&limit=50": ("overall_score", "HIGH", False),
    "GET /scores?sortBy=overallScore&limit=50": ("overall_score", None, False),
    "GET /scores?sortBy=organizationName&limit=50": ("organization_name", None, False),
    "GET /scores?sortBy=calculatedAt&order=desc&limit=50": ("calculated_at", None, True),
}


def measure_sql(conn: DbConnection, title: str, calls: int) -> list[float]:
    """Seconds of the request's statements alone (no handler, no JSON): what the database costs."""

    def work() -> None:
        if title == "GET /summary":
            now = conn.execute("SELECT now() AS now").fetchall()[0]["now"]
            latest_scores.portfolio(conn, now)
            latest_scores.newly_high_risk(conn, now, NEWLY_HIGH_RISK_LIMIT)
            return
        sort, risk, descending = SQL_ONLY[title]
        snapshot = conn.execute("SELECT now() AS now").fetchall()[0]["now"]
        filters = ScoreFilters(risk_level=risk)
        latest_scores.latest_scores_page(conn, PageRequest(sort, descending, 51, filters, snapshot))

    for _ in range(max(10, calls // 20)):
        work()
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return seconds


# What newlyHighRiskCount would cost counted from migration 0011's partial index instead of the
# counters: grows with the newly high rows (shown by --explain for comparison).
COUNT_BY_INDEX_SQL = """
SELECT (SELECT count(*) FROM tenant_latest_scores l
        WHERE l.effective_risk_level = 'HIGH' AND l.previous_risk_level <> 'HIGH'
          AND (l.override_expires_at IS NULL OR l.override_expires_at > %(now)s))
     + (SELECT count(*) FROM tenant_latest_scores l
        WHERE l.override_expires_at <= %(now)s AND l.risk_level = 'HIGH' AND l.previous_risk_level <> 'HIGH') AS n
"""


def explain(conn: DbConnection, output: Path) -> None:
    snapshot = conn.execute("SELECT now() AS now").fetchall()[0]["now"]
    statements: list[tuple[str, sql.Composable | str, dict[str, Any]]] = []
    for title, risk, sort, descending in (
        ("riskLevel=HIGH, sortBy=overallScore", "HIGH", "overall_score", False),
        ("sortBy=overallScore", None, "overall_score", False),
        ("sortBy=organizationName", None, "organization_name", False),
        ("sortBy=calculatedAt, order=desc", None, "calculated_at", True),
    ):
        page = PageRequest(sort, descending, limit=51, filters=ScoreFilters(risk_level=risk), snapshot=snapshot)
        query, params = latest_scores.page_query(page)
        statements.append((f"GET /scores?{title}&limit=50", query, params))
    for title, limit in (("GET /scores?newlyHighRisk=true&limit=50", 51), ("GET /summary: newlyHighRisk", 100)):
        page = PageRequest("overall_score", False, limit, ScoreFilters(newly_high_risk=True), snapshot=snapshot)
        query, params = latest_scores.page_query(page)
        statements.append((title, query, params))
    statements.append(("GET /summary: counts (newlyHighRiskCount too)", latest_scores.SUMMARY_SQL, {"now": snapshot}))
    statements.append(("the count from the partial index instead (not used)", COUNT_BY_INDEX_SQL, {"now": snapshot}))
    tenants = conn.execute("SELECT count(*) AS n FROM tenant_latest_scores").fetchall()[0]["n"]
    lines = [f"EXPLAIN (ANALYZE, BUFFERS) at {tenants:,} tenants (bench/api_list.py --explain).", ""]
    for title, text, params in statements:
        statement = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + (sql.SQL(text) if isinstance(text, str) else text)
        plan = "\n".join(row["QUERY PLAN"] for row in conn.execute(statement, params).fetchall())
        lines += [f"#### {title}", "", "```", plan, "```", ""]
    output.write_text("\n".join(lines))
    print(f"plans written to {output}")


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--calls", type=int, default=1000, help="calls per request (default 1000)")
    args.add_argument("--explain", type=Path, help="write EXPLAIN (ANALYZE, BUFFERS) of each statement here")
    options = args.parse_args()
    quiet_powertools()
    conn = bench_database(options.tenants)
    ensure_scores(conn)
    from healthscore_dev.local.handlers import load_handler
    from healthscore_dev.local.lambda_context import LocalLambdaContext

    handler = load_handler("api").lambda_handler
    context = LocalLambdaContext("ApiFunction")
    rows = []
    for title, path, query in REQUESTS:
        seconds, items = measure(handler, context, path, query, options.calls)
        ms = sorted(s * 1000 for s in seconds)  # percentile() reads an ordered list
        sql_p50: object = "-"
        sql_p99: object = "-"
        if title in SQL_ONLY or title == "GET /summary":
            sql_ms = sorted(s * 1000 for s in measure_sql(conn, title, options.calls))
            sql_p50, sql_p99 = percentile(sql_ms, 0.5), percentile(sql_ms, 0.99)
        rows.append((title, items, percentile(ms, 0.5), percentile(ms, 0.95), percentile(ms, 0.99), sql_p50, sql_p99))
    tenants = conn.execute("SELECT count(*) AS n FROM tenant_latest_scores").fetchall()[0]["n"]
    headers = ("request", "items", "p50 ms", "p95 ms", "p99 ms", "SQL p50", "SQL p99")
    print_table(f"API handler, in-process, {tenants:,} scored tenants, {options.calls:,} calls each", headers, rows)
    if options.explain:
        explain(conn, options.explain)


if __name__ == "__main__":
    main()
