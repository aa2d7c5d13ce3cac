"""Where login and feature adoption came from, and when a score is approximate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from healthscore.core.input_sources import is_late, provenance

D = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("recorded", "computed_on", "approximate", "unknown"),
    [
        (True, D, False, 0),
        (True, D + timedelta(days=3), False, 0),  # recorded on its day: exact however late
        (False, D, False, 2),  # read live on as_of's day: still the day's values
        (False, D + timedelta(days=1), True, 2),  # read live a day later: the service cannot know
    ],
)
def test_approximate_only_when_read_live_after_the_day(
    recorded: bool, computed_on: date, approximate: bool, unknown: int
) -> None:
    known = provenance(recorded=recorded, as_of_date=D, computed_on=computed_on, unknown_users=2)
    assert (known.approximate, known.unknown_users) == (approximate, unknown)
    source = "recorded" if recorded else "live"
    assert known.sources() == {
        "login": source,
        "caseResolution": "live",
        "campaignCompletion": "live",
        "featureAdoption": source,
        "supportTickets": "live",
    }


def test_late_means_a_later_utc_day() -> None:
    assert not is_late(D, D)
    assert is_late(D, D + timedelta(days=1))
    assert not is_late(D + timedelta(days=1), D)  # as_of in the future is not late
