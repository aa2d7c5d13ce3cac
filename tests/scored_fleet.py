"""A demo fleet scored on two days (yesterday and as-of), for tests and load runs against a served API.

Import with `from scored_fleet import seed_scored_fleet` (pytest puts `tests/` on sys.path).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.dal.connection import DbConnection
from healthscore.dal.organizations import active_organization_pages
from healthscore.logic.record_metrics import record_metrics
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantRequest
from healthscore_dev.demo.load import seed_fleet

PAGE = 500  # tenants scored per call


def seed_scored_fleet(conn: DbConnection, tenants: int, as_of: datetime, seed: int = 7) -> list[UUID]:
    """Seed `tenants` demo tenants, record and score every active one on both days; their ids."""
    seed_fleet(conn, tenants, seed, as_of, replace=False)
    active = [org_id for page in active_organization_pages(conn, PAGE) for org_id in page]
    for day in (as_of - timedelta(days=1), as_of):
        for start in range(0, len(active), PAGE):
            requests = [TenantRequest(org_id, day, f"seed-{day:%Y%m%d}") for org_id in active[start : start + PAGE]]
            record_metrics(conn, requests)
            score_tenants(conn, requests, ProfileSet([default_profile()]))
    return active
