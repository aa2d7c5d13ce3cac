"""Use case: score a set of tenants together (set-based reads, one bulk write)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from healthscore.core import input_sources, scoring
from healthscore.core.profile_matching import ProfileSet, TenantFacts
from healthscore.dal import score_writes, scores, usage
from healthscore.dal.connection import DbConnection
from healthscore.dal.usage import TenantUsage
from healthscore.logic import clock
from healthscore.logic.risk_events import risk_change_detail
from healthscore.logic.tenant_requests import (
    TenantOutcome,
    TenantRequest,
    by_as_of,
    inactive_reason,
    workable,
)


def score_tenants(
    conn: DbConnection, requests: list[TenantRequest], profiles: ProfileSet, *, announce: bool = False
) -> list[TenantOutcome]:
    """Score every requested tenant by its profile; skip unknown, non-active and user-less ones.

    `announce`: put the HealthRiskChanged events of the risk changes (and of the lapsed overrides found)
    in the outbox, in the write's own statement (logic/risk_events.py publishes them after).
    """
    return [
        outcome
        for as_of, group in by_as_of(requests).items()
        for outcome in _score_group(conn, as_of, group, profiles, announce)
    ]


def _score_group(
    conn: DbConnection, as_of: datetime, group: list[TenantRequest], profiles: ProfileSet, announce: bool
) -> list[TenantOutcome]:
    reads = scores.scoring_read(conn, list({request.organization_id for request in group}), as_of)
    results: list[TenantOutcome] = []
    for request, tenant in workable(group, {id_: read.usage for id_, read in reads.items()}, results, skip_reason):
        read = reads[tenant.organization_id]
        results.append(
            TenantOutcome(
                tenant.organization_id,
                request.run_id,
                "scored",
                row=score_row(tenant, request, profiles, read.previous),
                previous=read.previous,
                replaced_risk=read.replaced_risk,
            )
        )
    # A duplicate message in one batch is scored once: the last row of a tenant wins.
    unique_rows = {r.organization_id: r.row for r in results if r.row is not None}
    outcomes = [(r.run_id, r.organization_id, r.outcome, r.reason) for r in results]
    events = [(r.organization_id, detail) for r in results if announce and (detail := risk_change_detail(r))]
    score_writes.write_scores(conn, list(unique_rows.values()), outcomes, events, announce_lapses=announce)
    return results


def skip_reason(tenant: TenantUsage | None) -> str | None:
    reason = inactive_reason(tenant)
    if reason is None and tenant is not None and tenant.inputs.total_users == 0:
        return "organization has no users"
    return reason


def score_row(
    tenant: TenantUsage, request: TenantRequest, profiles: ProfileSet, previous: dict[str, Any] | None
) -> dict[str, Any]:
    """The stored score of one tenant under its profile, with what explains (and reproduces) it.

    Its trend compares like with like: with the previous score restated under this score's profile version.
    """
    facts = TenantFacts(tenant.organization_id, tenant.inputs.total_users, tenant.created_at)
    profile = profiles.profile_for(facts, request.as_of)
    before = scores.previous_score(previous) if previous else None
    restated = before.restated(profile) if before else None
    evaluation = scoring.evaluate(tenant.inputs, restated.overall if restated else None, profile)
    result = evaluation.score
    components = result.components
    return {
        "organization_id": tenant.organization_id,
        "score_date": request.as_of.date(),
        "overall_score": result.overall,
        "login_score": components.login,
        "case_resolution_score": components.caseResolution,
        "campaign_completion_score": components.campaignCompletion,
        "feature_adoption_score": components.featureAdoption,
        "support_ticket_score": components.supportTickets,
        "previous_score": restated.overall if restated else None,
        "trend": evaluation.trend,
        "risk_level": evaluation.risk_level,
        "run_id": request.run_id,
        "as_of": request.as_of,
        "weights": profile.stored_weights,
        "inputs": inputs_document(tenant, request.as_of),
        "explanation": {
            "contributions": result.contribution_points(),
            "missingComponents": list(result.missing),
            "previousScoreDate": previous["score_date"].isoformat() if previous else None,
            # The previous score's contributions restated likewise: what its change is explained by.
            "previousContributions": restated.contribution_points() if restated else None,
            "profile": profile.rules,  # with the weights and inputs, enough to reproduce the score
        },
        "profile_id": profile.profile_id,
        "profile_version": profile.version,
        "previous_score_as_computed": before.overall if before else None,
        "previous_profile_id": before.profile_id if before else None,
        "previous_profile_version": before.profile_version if before else None,
    }


def inputs_document(tenant: TenantUsage, as_of: datetime) -> dict[str, Any]:
    inputs = tenant.inputs
    known = input_sources.provenance(
        recorded=tenant.recorded_as_of is not None,
        as_of_date=usage.utc_date(as_of),
        computed_on=clock.utc_today(),
        unknown_users=tenant.unknown_users,
    )
    return {
        "windowStart": usage.window_start(as_of).isoformat(),
        "windowEnd": as_of.isoformat(),
        "totalUsers": inputs.total_users,
        "activeUsers": inputs.active_users,
        "casesClosed": inputs.cases_closed,
        "casesOnTime": inputs.cases_on_time,
        "campaignsCompleted": inputs.campaigns_completed,
        "campaignAssignments": [list(pair) for pair in inputs.campaign_assignments],
        "featuresEnabled": inputs.features_enabled,
        "featuresUsed": inputs.features_used,
        "tracksSupportTickets": inputs.tracks_support_tickets,
        "ticketCount": inputs.ticket_count,
        "baselineTickets": inputs.baseline_tickets,
        # Login and feature adoption: "recorded" by record-metrics on as_of's day, or read "live".
        "sources": known.sources(),
        "recordedAsOf": tenant.recorded_as_of.isoformat() if tenant.recorded_as_of else None,
        "approximate": known.approximate,
        "unknownUsers": known.unknown_users,  # logged in after as_of: their login in the window is unknown
    }
