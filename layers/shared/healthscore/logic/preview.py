"""Use case: what a candidate profile would do to the real fleet, with nothing written (the what-if).

The tenants it would score (its segment and priority among the active profiles, standing in for
an active profile of the same id) are each re-scored from their latest stored component scores,
their trend against the previous score restated under the candidate (docs/scoring.md, "One model across time"), in one
set-based statement (dal/profile_preview.py) that computes what `scoring.evaluate` does. Scoring those
tenants again on the same day after applying the candidate gives exactly the preview's `to`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import ScoringProfile
from healthscore.dal import profile_preview
from healthscore.dal.connection import DbConnection


@dataclass(frozen=True)
class Mover:
    organization_id: UUID
    organization_name: str
    score_from: int
    score_to: int
    risk_from: str
    risk_to: str


@dataclass(frozen=True)
class Preview:
    tenants: int
    changed: int  # tenants whose overall score would change
    risk_transitions: dict[str, dict[str, int]]  # from -> to -> tenants, unchanged levels included
    movers: list[Mover]  # largest absolute change first, at most profile_preview.MOVERS


def tried_before(candidate: ScoringProfile, active: ProfileSet) -> list[ScoringProfile]:
    """The profiles a tenant is matched against before the candidate (which stands in for its id)."""
    ordered = active.with_candidate(candidate).ordered
    return list(ordered[: ordered.index(candidate)])


def preview(conn: DbConnection, candidate: ScoringProfile, active: ProfileSet) -> Preview:
    rows = profile_preview.preview_rows(conn, candidate, tried_before(candidate, active))
    transitions: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows.transitions:
        transitions[row["risk_from"]][row["risk_to"]] = row["tenants"]
    return Preview(
        tenants=sum(row["tenants"] for row in rows.transitions),
        changed=sum(row["changed"] for row in rows.transitions),
        risk_transitions=dict(transitions),
        movers=[
            Mover(
                m["organization_id"],
                m["organization_name"],
                m["score_from"],
                m["score_to"],
                m["risk_from"],
                m["risk_to"],
            )
            for m in rows.movers
        ],
    )
