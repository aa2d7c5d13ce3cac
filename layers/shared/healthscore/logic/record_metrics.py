"""Use case: record the daily usage metrics of a set of tenants (set-based).

With the metrics, each tenant's login and feature inputs of the day are kept in
`tenant_daily_inputs`, so that a calculate-score of that day replayed later reads them
instead of `users.last_login_at` and the feature flags, which hold only their current value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from healthscore.core.input_sources import is_late
from healthscore.core.metrics import change_pct, daily_metrics
from healthscore.dal import daily_inputs, metrics, usage
from healthscore.dal.connection import DbConnection
from healthscore.dal.daily_inputs import DailyInputs
from healthscore.dal.usage import TenantUsage
from healthscore.logic import clock
from healthscore.logic.tenant_requests import TenantOutcome, TenantRequest, by_as_of, record_outcomes, workable


def record_metrics(conn: DbConnection, requests: list[TenantRequest]) -> list[TenantOutcome]:
    """Upsert one usage_metrics row per metric type for each ACTIVE tenant on as_of's day."""
    return [outcome for as_of, group in by_as_of(requests).items() for outcome in _record_group(conn, as_of, group)]


def _record_group(conn: DbConnection, as_of: datetime, group: list[TenantRequest]) -> list[TenantOutcome]:
    ids = list({request.organization_id for request in group})
    metric_date = usage.utc_date(as_of)
    tenants = usage.fetch_usage(conn, ids, as_of)
    previous = metrics.previous_values(conn, ids, metric_date)
    rows: dict[tuple[Any, str], dict[str, Any]] = {}
    results: list[TenantOutcome] = []
    # Read live after as_of's day, these inputs are no longer the day's: nothing is kept then.
    keep_inputs = not is_late(metric_date, clock.utc_today())
    daily: dict[UUID, DailyInputs] = {}
    for request, tenant in workable(group, tenants, results):
        if keep_inputs and tenant.recorded_as_of is None:
            daily[tenant.organization_id] = _daily_inputs(tenant, as_of, request.run_id)
        for metric_type, value in daily_metrics(tenant.inputs).items():
            previous_value = previous.get((tenant.organization_id, metric_type))
            rows[(tenant.organization_id, metric_type)] = {
                "organization_id": tenant.organization_id,
                "metric_type": metric_type,
                "metric_date": metric_date,
                "value": value,
                "previous_value": previous_value,
                "change_pct": change_pct(value, previous_value),
                "run_id": request.run_id,
            }
        results.append(TenantOutcome(tenant.organization_id, request.run_id, "recorded"))
    with conn.transaction():
        metrics.upsert_metrics(conn, list(rows.values()))
        daily_inputs.insert_daily_inputs(conn, list(daily.values()))
        record_outcomes(conn, results)
    return results


def _daily_inputs(tenant: TenantUsage, as_of: datetime, run_id: str) -> DailyInputs:
    inputs = tenant.inputs
    return DailyInputs(
        organization_id=tenant.organization_id,
        input_date=usage.utc_date(as_of),
        total_users=inputs.total_users,
        active_users=inputs.active_users,
        features_enabled=inputs.features_enabled,
        features_used=inputs.features_used,
        as_of=as_of,
        run_id=run_id,
    )
