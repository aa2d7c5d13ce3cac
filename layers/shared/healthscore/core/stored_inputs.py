"""A stored score's `inputs` document read back as `UsageInputs` (the inverse of what the scorer writes). Pure.

A score is reproducible from these inputs and its profile version; the what-if preview re-scores them.
"""

from __future__ import annotations

from typing import Any

from healthscore.core.scoring import UsageInputs


def usage_inputs(document: dict[str, Any]) -> UsageInputs:
    tracked = bool(document["tracksSupportTickets"])
    return UsageInputs(
        total_users=document["totalUsers"],
        active_users=document["activeUsers"],
        cases_closed=document["casesClosed"],
        cases_on_time=document["casesOnTime"],
        campaigns_completed=document["campaignsCompleted"],
        campaign_assignments=tuple((done, total) for done, total in document["campaignAssignments"]),
        features_enabled=document["featuresEnabled"],
        features_used=document["featuresUsed"],
        tracks_support_tickets=tracked,
        ticket_count=document["ticketCount"] if tracked else None,
    )
