"""Where a score's inputs came from, and whether the score can be exact (docs/scoring.md). Pure.

Cases, campaigns and tickets carry their own timestamps, so reading them over the window
at any later time gives the window's values. `users.last_login_at` and the feature flags
hold only their current value: they are exact when record-metrics kept them on their day
("recorded"), or when read live on as_of's UTC day itself. Read live on a later day, a user
who logged in since as_of may also have logged in within the window, or not: the score is
then approximate, and says how many users that is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from healthscore.core.weights import COMPONENTS, Component

InputSource = Literal["recorded", "live"]
# The components whose inputs have no history in the source tables.
WITHOUT_HISTORY: frozenset[Component] = frozenset({"login", "featureAdoption"})


@dataclass(frozen=True)
class InputProvenance:
    recorded: bool  # login and feature adoption are the day's recorded inputs
    approximate: bool
    unknown_users: int  # users whose login in the window cannot be known (0 when recorded)

    def sources(self) -> dict[Component, InputSource]:
        without_history: InputSource = "recorded" if self.recorded else "live"
        return {name: without_history if name in WITHOUT_HISTORY else "live" for name in COMPONENTS}


def is_late(as_of_date: date, computed_on: date) -> bool:
    """Computed on a UTC day after as_of's: current-value-only inputs no longer say what they were."""
    return as_of_date < computed_on


def provenance(*, recorded: bool, as_of_date: date, computed_on: date, unknown_users: int) -> InputProvenance:
    if recorded:
        return InputProvenance(recorded=True, approximate=False, unknown_users=0)
    return InputProvenance(recorded=False, approximate=is_late(as_of_date, computed_on), unknown_users=unknown_users)
