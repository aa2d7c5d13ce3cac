"""What the scorer is asked to do for a tenant, and what became of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from healthscore.dal import runs
from healthscore.dal.connection import DbConnection
from healthscore.dal.usage import TenantUsage

Outcome = Literal["scored", "recorded", "skipped", "failed"]


@dataclass(frozen=True)
class TenantRequest:
    organization_id: UUID
    as_of: datetime  # UTC; the window ends here and the result's day is its date
    run_id: str


@dataclass(frozen=True)
class TenantOutcome:
    """What happened to one tenant; `row` is the stored score when it was scored."""

    organization_id: UUID
    run_id: str
    outcome: Outcome
    reason: str | None = None
    row: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None  # the earlier day's score, None for a first score
    replaced_risk: str | None = None  # the same day's risk this score replaced, if any

    @property
    def previous_risk(self) -> str | None:
        return self.previous["risk_level"] if self.previous else None


def by_as_of(requests: list[TenantRequest]) -> dict[datetime, list[TenantRequest]]:
    """Requests grouped by window: a replayed message keeps its original as_of."""
    groups: dict[datetime, list[TenantRequest]] = defaultdict(list)
    for request in requests:
        groups[request.as_of].append(request)
    return groups


def inactive_reason(tenant: TenantUsage | None) -> str | None:
    """Why a tenant is not worked on at all, or None if it is ACTIVE."""
    if tenant is None:
        return "unknown organization"
    if tenant.status != "ACTIVE":
        return f"organization is {tenant.status}"
    return None


def workable(
    group: list[TenantRequest],
    tenants: dict[UUID, TenantUsage],
    outcomes: list[TenantOutcome],
    reason_to_skip: Callable[[TenantUsage | None], str | None] = inactive_reason,
) -> Iterator[tuple[TenantRequest, TenantUsage]]:
    """The requests to work on, with their tenant, in order.

    Each other request gets its "skipped" outcome (with the reason) appended to `outcomes`
    in its place, so the outcomes keep the order of the requests.
    """
    for request in group:
        tenant = tenants.get(request.organization_id)
        reason = reason_to_skip(tenant)
        if tenant is None or reason is not None:
            outcomes.append(TenantOutcome(request.organization_id, request.run_id, "skipped", reason))
        else:
            yield request, tenant


def record_outcomes(conn: DbConnection, outcomes: list[TenantOutcome]) -> None:
    runs.record_outcomes(conn, [(o.run_id, o.organization_id, o.outcome, o.reason) for o in outcomes])
