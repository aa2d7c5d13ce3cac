"""The kinds of tenant in the demo fleet and how much of the fleet each one is.

Every range is inclusive and drawn once per tenant, so two tenants of one profile
still differ. The numbers are tuned so that, scored on the seed's as-of day, the
fleet shows every risk level: healthy tenants are LOW, average ones LOW or MEDIUM,
declining and churn-risk ones mostly HIGH, and lapsing ones fall from LOW or MEDIUM to
HIGH on the last day of the 30 days of recorded history (their users last came together
just over 30 days ago, and some features were dropped the day before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ACTIVE", "SUSPENDED", "CHURNED"]
Range = tuple[float, float]
IntRange = tuple[int, int]

# How far back activity is generated, and its three periods (days before as-of):
# the scoring window, the two months before it, and the oldest month.
HISTORY_DAYS = 120
PERIODS: tuple[IntRange, ...] = ((0, 30), (30, 90), (90, HISTORY_DAYS))

FEATURE_KEYS = (
    "case_management",
    "campaigns",
    "reports",
    "sso",
    "api_access",
    "mobile_app",
    "analytics",
    "automation",
)


@dataclass(frozen=True)
class Profile:
    name: str
    share: float  # of the fleet
    users: IntRange
    age_days: IntRange  # how long ago the organization was created
    # Activity per day in each of PERIODS, relative to the others; every one above 0.
    intensity: tuple[float, float, float] = (1.0, 1.0, 1.0)
    status: Status = "ACTIVE"
    tracks_support_tickets: bool = True
    stopped_days_ago: IntRange = (0, 0)  # no activity more recent than this (suspension, churn)
    engagement: Range = (0.0, 0.0)  # share of users who logged in within the last 30 days
    never_logged_in: float = 0.1  # chance that a user who is not engaged never logged in at all
    cases_per_user: Range = (0.0, 0.0)  # over HISTORY_DAYS
    sla_breach: Range = (0.0, 0.0)  # share of cases with an SLA that close after it
    no_sla: float = 0.15  # share of cases without an SLA
    campaigns: IntRange = (0, 0)  # over HISTORY_DAYS
    assignment_completion: Range = (0.0, 0.0)  # completed_assignments / total_assignments
    feature_enabled: float = 0.7  # chance that each feature is enabled
    feature_used: Range = (0.0, 0.0)  # chance that an enabled feature is used
    tickets_per_baseline: Range = (0.0, 0.0)  # monthly tickets as a multiple of one per ten users
    # Chance that a user who is not engaged last logged in at one event `lapsed_days` ago.
    lapsed_share: float = 0.0
    lapsed_days: Range = (0.0, 0.0)
    feature_dropped: float = 0.0  # chance that a used feature stopped being used within the last day


ESTABLISHED: IntRange = (150, 1500)

PROFILES: tuple[Profile, ...] = (
    Profile(
        name="healthy",
        share=0.35,
        users=(20, 60),
        age_days=ESTABLISHED,
        engagement=(0.72, 0.95),
        never_logged_in=0.3,
        cases_per_user=(1.0, 3.0),
        sla_breach=(0.0, 0.1),
        campaigns=(4, 12),
        assignment_completion=(0.75, 1.0),
        feature_enabled=0.8,
        feature_used=(0.7, 1.0),
        tickets_per_baseline=(0.2, 0.9),
    ),
    Profile(
        name="average",
        share=0.20,
        users=(20, 60),
        age_days=ESTABLISHED,
        engagement=(0.4, 0.7),
        cases_per_user=(0.8, 2.5),
        sla_breach=(0.1, 0.35),
        campaigns=(2, 8),
        assignment_completion=(0.45, 0.8),
        feature_used=(0.35, 0.7),
        tickets_per_baseline=(0.6, 1.8),
    ),
    Profile(
        name="declining",
        share=0.10,
        users=(15, 50),
        age_days=ESTABLISHED,
        # Busy 30-90 days ago, nearly silent since.
        intensity=(0.05, 1.0, 0.7),
        engagement=(0.03, 0.2),
        cases_per_user=(1.0, 2.5),
        sla_breach=(0.15, 0.4),
        campaigns=(3, 8),
        assignment_completion=(0.4, 0.8),
        feature_used=(0.2, 0.5),
        tickets_per_baseline=(1.0, 2.5),
    ),
    Profile(
        name="churn-risk",
        share=0.10,
        users=(10, 40),
        age_days=ESTABLISHED,
        engagement=(0.05, 0.3),
        cases_per_user=(1.5, 3.5),
        sla_breach=(0.5, 0.9),
        no_sla=0.05,
        campaigns=(1, 5),
        assignment_completion=(0.05, 0.4),
        feature_enabled=0.6,
        feature_used=(0.0, 0.3),
        tickets_per_baseline=(2.5, 6.0),
    ),
    Profile(
        name="lapsing",
        share=0.03,
        users=(20, 60),
        age_days=ESTABLISHED,
        # Everyone came to a launch event just over 30 days ago; few came back since.
        engagement=(0.05, 0.12),
        never_logged_in=0.05,
        lapsed_share=0.9,
        lapsed_days=(30.2, 30.9),
        cases_per_user=(0.8, 2.0),
        sla_breach=(0.05, 0.25),
        campaigns=(3, 8),
        assignment_completion=(0.55, 0.85),
        feature_enabled=0.8,
        feature_used=(0.6, 0.9),
        feature_dropped=0.6,
        tickets_per_baseline=(0.3, 1.0),
    ),
    Profile(
        name="new",
        share=0.07,
        users=(2, 8),
        age_days=(3, 25),
        engagement=(0.4, 0.9),
        cases_per_user=(0.5, 2.0),
        sla_breach=(0.0, 0.3),
        campaigns=(0, 2),
        assignment_completion=(0.2, 0.9),
        feature_enabled=0.5,
        feature_used=(0.1, 0.5),
        tickets_per_baseline=(0.5, 2.0),
    ),
    Profile(
        name="untracked-tickets",
        share=0.06,
        users=(20, 60),
        age_days=ESTABLISHED,
        tracks_support_tickets=False,
        engagement=(0.5, 0.9),
        cases_per_user=(0.8, 2.5),
        sla_breach=(0.05, 0.3),
        campaigns=(2, 10),
        assignment_completion=(0.5, 0.95),
        feature_used=(0.4, 0.9),
    ),
    Profile(
        name="suspended",
        share=0.04,
        users=(10, 40),
        age_days=ESTABLISHED,
        status="SUSPENDED",
        stopped_days_ago=(10, 60),
        cases_per_user=(0.8, 2.0),
        sla_breach=(0.2, 0.6),
        campaigns=(1, 5),
        assignment_completion=(0.2, 0.7),
        feature_used=(0.2, 0.6),
        tickets_per_baseline=(1.0, 3.0),
    ),
    Profile(
        name="churned",
        share=0.03,
        users=(10, 40),
        age_days=ESTABLISHED,
        status="CHURNED",
        stopped_days_ago=(40, 110),
        cases_per_user=(0.5, 1.5),
        sla_breach=(0.3, 0.7),
        campaigns=(0, 3),
        assignment_completion=(0.1, 0.5),
        feature_enabled=0.5,
        feature_used=(0.0, 0.4),
        tickets_per_baseline=(1.0, 4.0),
    ),
    Profile(
        name="no-users",
        share=0.02,
        users=(0, 0),
        age_days=(30, 400),
        feature_enabled=0.4,
    ),
)
