"""Hypothesis strategies shared by the unit tests (pytest puts `tests/` on sys.path)."""

from __future__ import annotations

from hypothesis import strategies as st

from healthscore.core.scoring import UsageInputs


@st.composite
def usage_inputs(draw: st.DrawFn, min_users: int = 0) -> UsageInputs:
    """A tenant's usage in the 30-day window, every count consistent with the others."""
    total_users = draw(st.integers(min_users, 400))
    cases_closed = draw(st.integers(0, 120))
    assignments = draw(
        st.lists(st.integers(1, 300).flatmap(lambda t: st.tuples(st.integers(0, t), st.just(t))), max_size=6)
    )
    features_enabled = draw(st.integers(0, 25))
    tracked = draw(st.booleans())
    return UsageInputs(
        total_users=total_users,
        active_users=draw(st.integers(0, total_users)),
        cases_closed=cases_closed,
        cases_on_time=draw(st.integers(0, cases_closed)),
        campaigns_completed=len(assignments) + draw(st.integers(0, 3)),  # + campaigns with no assignments
        campaign_assignments=tuple(assignments),
        features_enabled=features_enabled,
        features_used=draw(st.integers(0, features_enabled)),
        tracks_support_tickets=tracked,
        ticket_count=draw(st.integers(0, 200)) if tracked else None,
    )
