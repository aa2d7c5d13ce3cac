"""Use case: what a candidate profile would do to the real fleet, with nothing written (the what-if).

The tenants it would score (its segment and priority among the active profiles, standing in for
an active profile of the same id) are each re-scored from their latest stored inputs, against the
same previous score, by `scoring.evaluate`: the function the scorer stores. Scoring those tenants
again on the same day after applying the candidate gives exactly the preview's `to`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from healthscore.core import scoring
from healthscore.core.profile_matching import ProfileSet, TenantFacts
from healthscore.core.profiles import ScoringProfile
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_inputs import latest_inputs

MOVERS: Final = 20


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
    movers: list[Mover]  # largest absolute change first, at most MOVERS
    scored: list[Mover]  # every tenant counted, changed or not


def preview(conn: DbConnection, candidate: ScoringProfile, active: ProfileSet) -> Preview:
    profiles = active.with_candidate(candidate)
    transitions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    scored: list[Mover] = []
    tenants = changed = 0
    for row in latest_inputs(conn):
        facts = TenantFacts(row.organization_id, row.inputs.total_users, row.created_at)
        if profiles.profile_for(facts, row.as_of).profile_id != candidate.profile_id:
            continue
        evaluation = scoring.evaluate(row.inputs, row.previous_score, candidate)
        tenants += 1
        score_from, score_to = row.overall_score, evaluation.score.overall
        risk_from, risk_to = row.risk_level, evaluation.risk_level
        transitions[risk_from][risk_to] += 1
        changed += score_from != score_to
        scored.append(Mover(row.organization_id, row.organization_name, score_from, score_to, risk_from, risk_to))
    moved = [m for m in scored if m.score_from != m.score_to or m.risk_from != m.risk_to]
    moved.sort(key=lambda m: (-abs(m.score_to - m.score_from), m.risk_from == m.risk_to, str(m.organization_id)))
    return Preview(
        tenants=tenants,
        changed=changed,
        risk_transitions={level: dict(to) for level, to in transitions.items()},
        movers=moved[:MOVERS],
        scored=scored,
    )
