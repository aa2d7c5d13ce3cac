"""Manual risk overrides: when one applies, and what a new one may say. Pure: the clock is passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

MAX_REASON_LENGTH: Final = 500
MAX_DURATION: Final = timedelta(days=90)


class OverrideRuleError(ValueError):
    """A new override breaks a rule; `field` is the body field to name."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def is_active(expires_at: datetime, now: datetime) -> bool:
    """An uncleared override applies until, not at, its expiry."""
    return now < expires_at


def as_utc(moment: datetime) -> datetime:
    """A time without a zone is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def checked_expiry(expires_at: datetime, now: datetime) -> datetime:
    """`expires_at` in UTC, if it is in the future and at most 90 days after `now`."""
    expiry = as_utc(expires_at)
    if expiry <= now:
        raise OverrideRuleError("expiresAt", f"{expiry.isoformat()} is not in the future")
    if expiry - now > MAX_DURATION:
        raise OverrideRuleError("expiresAt", f"{expiry.isoformat()} is more than {MAX_DURATION.days} days ahead")
    return expiry


def checked_reason(reason: str) -> str:
    """The reason without surrounding blanks: 1 to 500 characters."""
    text = reason.strip()
    if not text:
        raise OverrideRuleError("reason", "must not be empty")
    if len(text) > MAX_REASON_LENGTH:
        raise OverrideRuleError("reason", f"{len(text)} characters; at most {MAX_REASON_LENGTH}")
    return text
