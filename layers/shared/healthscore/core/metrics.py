"""Daily usage metrics derived from a tenant's inputs (docs/scoring.md). Pure."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from healthscore.core.scoring import UsageInputs

MetricType = Literal[
    "LOGIN_RATE",
    "ACTIVE_USERS",
    "TOTAL_USERS",
    "CASES_CLOSED",
    "CASE_ON_TIME_RATE",
    "CAMPAIGNS_COMPLETED",
    "CAMPAIGN_COMPLETION_RATE",
    "FEATURE_ADOPTION_RATE",
    "SUPPORT_TICKETS",
]

RATE_PLACES = Decimal("0.000001")  # rates are stored as fractions 0..1 to 6 places
PCT_PLACES = Decimal("0.01")


def _decimal(value: Fraction, places: Decimal) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(places, rounding=ROUND_HALF_UP)


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator to 6 places, or None with no denominator (a rate is not recorded then)."""
    return _decimal(Fraction(numerator, denominator), RATE_PLACES) if denominator else None


def daily_metrics(inputs: UsageInputs) -> dict[MetricType, Decimal]:
    """Counts over the window, and the rates that have a denominator."""
    average = inputs.campaign_completion_average
    values: dict[MetricType, Decimal | None] = {
        "LOGIN_RATE": rate(inputs.active_users, inputs.total_users),
        "ACTIVE_USERS": Decimal(inputs.active_users),
        "TOTAL_USERS": Decimal(inputs.total_users),
        "CASES_CLOSED": Decimal(inputs.cases_closed),
        "CASE_ON_TIME_RATE": rate(inputs.cases_on_time, inputs.cases_closed),
        "CAMPAIGNS_COMPLETED": Decimal(inputs.campaigns_completed),
        "CAMPAIGN_COMPLETION_RATE": None if average is None else _decimal(average, RATE_PLACES),
        "FEATURE_ADOPTION_RATE": rate(inputs.features_used, inputs.features_enabled),
        "SUPPORT_TICKETS": None if inputs.ticket_count is None else Decimal(inputs.ticket_count),
    }
    return {metric: value for metric, value in values.items() if value is not None}


def change_pct(value: Decimal, previous: Decimal | None) -> Decimal | None:
    """(value - previous) / previous * 100; None without a previous value or when it is 0."""
    if previous is None or previous == 0:
        return None
    return _decimal(Fraction(value - previous) / Fraction(previous) * 100, PCT_PLACES)
