"""The UTC day work is done on, which decides whether inputs read live are still exact."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utc_today() -> date:
    return datetime.now(UTC).date()
