"""The what-if preview through the API handler: POST /profiles/{profileId}/preview over the whole fleet.

    .venv/bin/python bench/preview.py [--tenants 10000] [--rounds 5]

Every ACTIVE tenant of the bench database is scored once (the default profile, as of BENCH_AS_OF);
then a candidate profile matching everyone (the worst case: every tenant re-scored) is previewed
`--rounds` times through functions/api/app.py's handler with a real API Gateway v2 event, after one
warm-up call. Printed: wall time per call (mean, p50, max), tenants re-scored, and the share of a
call spent reading the latest stored inputs (its one query).
"""

from __future__ import annotations

import copy
import json
import time

from benchlib import BENCH_AS_OF, PROJECT_ROOT, active_ids, bench_database, parser, print_table, quiet_powertools

from healthscore.api.routes import JWT_PREFIX
from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_inputs import latest_inputs
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantRequest
from healthscore_dev.bench.api_latency import PREVIEW_CANDIDATE as CANDIDATE
from healthscore_dev.local.handlers import load_handler
from healthscore_dev.local.lambda_context import LocalLambdaContext


def score_everyone(conn: DbConnection) -> int:
    ids = active_ids(conn)
    profiles = ProfileSet([default_profile()])
    for start in range(0, len(ids), 200):
        score_tenants(
            conn, [TenantRequest(org, BENCH_AS_OF, "bench-preview") for org in ids[start : start + 200]], profiles
        )
    return len(ids)


def preview_event() -> dict[str, object]:
    event = copy.deepcopy(json.loads((PROJECT_ROOT / "events" / "api_get_scores.json").read_text()))
    path = f"{JWT_PREFIX}/profiles/everyone/preview"
    context = event["requestContext"]
    raw_path = f"/{context['stage']}{path}"
    event.update(
        routeKey=f"POST {JWT_PREFIX}/profiles/{{profileId}}/preview",
        rawPath=raw_path,
        rawQueryString="",
        body=json.dumps(CANDIDATE),
        isBase64Encoded=False,
        pathParameters={"profileId": "everyone"},
    )
    event.pop("queryStringParameters", None)
    context.update(routeKey=event["routeKey"])
    context["http"].update(method="POST", path=raw_path)
    context["authorizer"] = {"lambda": {"sub": "bench", "roles": "CLIENT_SUCCESS"}}
    return event


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.set_defaults(tenants=10_000)
    args.add_argument("--rounds", type=int, default=5, help="timed preview calls (default 5)")
    options = args.parse_args()
    quiet_powertools()
    conn = bench_database(options.tenants)
    started = time.perf_counter()
    scored = score_everyone(conn)
    print(f"scored {scored:,} tenants in {time.perf_counter() - started:.1f} s (the preview's stored inputs)")

    handler = load_handler("api").lambda_handler
    event = preview_event()
    context = LocalLambdaContext("ApiFunction")
    answer = handler(event, context)  # warm-up: imports, plans, pages in memory
    if answer["statusCode"] != 200:
        raise SystemExit(f"preview failed: {answer['statusCode']} {answer['body']}")
    body = json.loads(answer["body"])
    timings = []
    for _ in range(options.rounds):
        started = time.perf_counter()
        handler(event, context)
        timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    latest_inputs(conn)
    query = time.perf_counter() - started
    mean = sum(timings) / len(timings)
    print_table(
        f"POST /profiles/everyone/preview through the API handler ({options.rounds} calls after a warm-up)",
        ["tenants re-scored", "changed", "mean s", "p50 s", "max s", "of which the one query s"],
        [[body["tenants"], body["changed"], mean, sorted(timings)[len(timings) // 2], max(timings), query]],
    )


if __name__ == "__main__":
    main()
