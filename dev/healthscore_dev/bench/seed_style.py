"""The seed-style path: one tenant at a time, each input its own query, sequential.

How the service first scored (before set-based batches): per tenant, the organization,
then each of the five inputs, then its previous score, each a separate query and round
trip, then one upsert; the next tenant only after that. The seed also slept 100 ms per
tenant to pace itself; that sleep is left out here and its cost stated (tenants x 0.1 s).
The scores are the core's (the same function as the scorer's), so only the access differs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.core.scoring import UsageInputs
from healthscore.core.weights import HealthWeights
from healthscore.dal import score_writes, scores
from healthscore.dal.connection import DbConnection
from healthscore.dal.usage import TenantUsage, window_start
from healthscore.logic.score_tenants import score_row
from healthscore.logic.tenant_requests import TenantRequest

SEED_SLEEP_SECONDS = 0.1
RUN_ID = "bench-seed-style"

# One query per input, as the seed had them; each is an index range scan.
QUERIES = {
    "organization": "SELECT id, name, status, tracks_support_tickets FROM organizations WHERE id = %(id)s",
    "total_users": "SELECT count(*) AS n FROM users WHERE organization_id = %(id)s",
    "active_users": "SELECT count(*) AS n FROM users WHERE organization_id = %(id)s"
    " AND last_login_at BETWEEN %(since)s AND %(as_of)s",
    "cases": "SELECT count(*) AS closed,"
    " count(*) FILTER (WHERE sla_breach_at IS NULL OR closed_at <= sla_breach_at) AS on_time"
    " FROM cases WHERE organization_id = %(id)s AND closed_at BETWEEN %(since)s AND %(as_of)s",
    "campaigns": "SELECT completed_assignments, total_assignments FROM campaigns WHERE organization_id = %(id)s"
    " AND completed_at BETWEEN %(since)s AND %(as_of)s ORDER BY id",
    "features": "SELECT count(*) FILTER (WHERE enabled) AS enabled, count(*) FILTER (WHERE enabled AND is_used)"
    " AS used FROM organization_features WHERE organization_id = %(id)s",
    "tickets": "SELECT count(*) AS n FROM support_tickets WHERE organization_id = %(id)s"
    " AND created_at BETWEEN %(since)s AND %(as_of)s",
}


@dataclass(frozen=True)
class SeedStyleResult:
    tenants: int
    seconds: float
    queries_per_tenant: float

    @property
    def tenants_per_second(self) -> float:
        return self.tenants / self.seconds

    def sleep_seconds(self, fleet: int) -> float:
        """What the seed's pacing sleep alone would add for `fleet` tenants."""
        return fleet * SEED_SLEEP_SECONDS


def score_one(conn: DbConnection, org_id: UUID, as_of: datetime, weights: HealthWeights) -> int:
    """Score one tenant the seed's way; the number of queries sent."""
    params = {"id": org_id, "since": window_start(as_of), "as_of": as_of}
    org = conn.execute(QUERIES["organization"], params).fetchone()
    if org is None or org["status"] != "ACTIVE":
        return 1
    total = conn.execute(QUERIES["total_users"], params).fetchall()[0]["n"]
    if total == 0:
        return 2
    active = conn.execute(QUERIES["active_users"], params).fetchall()[0]["n"]
    cases = conn.execute(QUERIES["cases"], params).fetchall()[0]
    campaigns = conn.execute(QUERIES["campaigns"], params).fetchall()
    features = conn.execute(QUERIES["features"], params).fetchall()[0]
    tracked = org["tracks_support_tickets"]
    tickets = conn.execute(QUERIES["tickets"], params).fetchall()[0]["n"] if tracked else None
    previous = scores.scores_before(conn, [org_id], as_of.date()).get(org_id)
    assignments = tuple(
        (row["completed_assignments"], row["total_assignments"]) for row in campaigns if row["total_assignments"] > 0
    )
    inputs = UsageInputs(
        total_users=total,
        active_users=active,
        cases_closed=cases["closed"],
        cases_on_time=cases["on_time"],
        campaigns_completed=len(campaigns),
        campaign_assignments=assignments,
        features_enabled=features["enabled"],
        features_used=features["used"],
        tracks_support_tickets=tracked,
        ticket_count=tickets,
    )
    tenant = TenantUsage(org_id, org["name"], org["status"], inputs)
    profiles = ProfileSet([default_profile(weights)])
    score_writes.write_scores(conn, [score_row(tenant, TenantRequest(org_id, as_of, RUN_ID), profiles, previous)])
    return 8 + tracked


def run_seed_style(conn: DbConnection, ids: list[UUID], as_of: datetime, weights: HealthWeights) -> SeedStyleResult:
    started = time.perf_counter()
    queries = sum(score_one(conn, org_id, as_of, weights) for org_id in ids)
    return SeedStyleResult(len(ids), time.perf_counter() - started, queries / max(1, len(ids)))
