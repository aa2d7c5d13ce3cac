"""Use case: record the daily usage metrics of a set of tenants (set-based)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from healthscore.core.metrics import change_pct, daily_metrics
from healthscore.dal import metrics, usage
from healthscore.dal.connection import DbConnection
from healthscore.logic.tenant_requests import TenantOutcome, TenantRequest, by_as_of, record_outcomes, workable


def record_metrics(conn: DbConnection, requests: list[TenantRequest]) -> list[TenantOutcome]:
    """Upsert one usage_metrics row per metric type for each ACTIVE tenant on as_of's day."""
    return [outcome for as_of, group in by_as_of(requests).items() for outcome in _record_group(conn, as_of, group)]


def _record_group(conn: DbConnection, as_of: datetime, group: list[TenantRequest]) -> list[TenantOutcome]:
    ids = list({request.organization_id for request in group})
    metric_date = as_of.date()
    tenants = usage.fetch_usage(conn, ids, as_of)
    previous = metrics.previous_values(conn, ids, metric_date)
    rows: dict[tuple[Any, str], dict[str, Any]] = {}
    results: list[TenantOutcome] = []
    for request, tenant in workable(group, tenants, results):
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
        record_outcomes(conn, results)
    return results
