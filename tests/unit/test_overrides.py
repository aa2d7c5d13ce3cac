"""The pure rules of risk overrides: when one applies, and what a new one may say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from healthscore.core.overrides import OverrideRuleError, checked_expiry, checked_reason, is_active

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_an_override_applies_until_not_at_its_expiry() -> None:
    expires_at = NOW + timedelta(minutes=1)
    assert is_active(expires_at, NOW)
    assert is_active(expires_at, NOW + timedelta(seconds=59))
    assert not is_active(expires_at, NOW + timedelta(minutes=1))


def test_an_expiry_without_a_zone_is_utc_and_others_are_converted() -> None:
    assert checked_expiry(datetime(2026, 12, 4, 12, 0), NOW) == datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    paris = timezone(timedelta(hours=1))
    assert checked_expiry(datetime(2026, 12, 4, 13, 0, tzinfo=paris), NOW) == datetime(2026, 12, 4, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "expires_at", [NOW, NOW - timedelta(seconds=1), NOW + timedelta(days=90, seconds=1), NOW + timedelta(days=365)]
)
def test_an_expiry_must_be_future_and_at_most_90_days_ahead(expires_at: datetime) -> None:
    with pytest.raises(OverrideRuleError) as error:
        checked_expiry(expires_at, NOW)
    assert error.value.field == "expiresAt"


def test_exactly_90_days_ahead_is_allowed() -> None:
    assert checked_expiry(NOW + timedelta(days=90), NOW) == NOW + timedelta(days=90)


@pytest.mark.parametrize("reason", ["", "  \n", "x" * 501])
def test_a_reason_has_1_to_500_characters(reason: str) -> None:
    with pytest.raises(OverrideRuleError) as error:
        checked_reason(reason)
    assert error.value.field == "reason"


def test_a_reason_is_kept_without_surrounding_blanks() -> None:
    assert checked_reason("  Sponsor left \n") == "Sponsor left"
    assert checked_reason("x" * 500) == "x" * 500
