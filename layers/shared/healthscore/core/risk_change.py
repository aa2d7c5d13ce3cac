"""When a score's risk level is news, and what drove it. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from healthscore.core.scoring import POINTS_PLACES
from healthscore.core.weights import COMPONENTS


def is_risk_change(new_risk: str, previous_risk: str | None, replaced_risk: str | None) -> bool:
    """A change against the earlier day (or a first score that is HIGH), not yet announced today.

    `replaced_risk` is the same day's risk that a re-score replaces: a duplicate delivery or a
    replay with an unchanged result is not news again.
    """
    changed = new_risk == "HIGH" if previous_risk is None else new_risk != previous_risk
    return changed and new_risk != replaced_risk


def contribution_deltas(current: Mapping[str, float], previous: Mapping[str, float] | None) -> dict[str, float]:
    """Each component's change of contribution to the overall, in points, largest first.

    A component missing on one side contributed 0 points there.
    """
    before = previous or {}
    deltas = {name: round(current.get(name, 0.0) - before.get(name, 0.0), POINTS_PLACES) for name in COMPONENTS}
    return dict(sorted(deltas.items(), key=lambda item: abs(item[1]), reverse=True))


def profile_changed(score: Mapping[str, object]) -> bool:
    """The score was computed under another profile or version than its previous score (a stored row)."""
    previous = score["previous_profile_id"], score["previous_profile_version"]
    return previous != (None, None) and previous != (score["profile_id"], score["profile_version"])
