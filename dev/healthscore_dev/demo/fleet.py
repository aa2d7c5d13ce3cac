"""The rows of a synthetic demo fleet, generated without I/O.

One `random.Random(seed)` drives everything, UUIDs included, so a given seed and
as-of always produce the same rows. Tenants are generated one at a time, so a
writer can stream a fleet of any size without holding it in memory.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from healthscore_dev.demo.profiles import FEATURE_KEYS, HISTORY_DAYS, PERIODS, PROFILES, Profile

OrganizationRow = tuple[uuid.UUID, str, str, bool, datetime]
UserRow = tuple[uuid.UUID, uuid.UUID, str, datetime | None]
CaseRow = tuple[uuid.UUID, uuid.UUID, datetime, datetime | None, datetime | None]
CampaignRow = tuple[uuid.UUID, uuid.UUID, datetime | None, int, int]
FeatureRow = tuple[uuid.UUID, str, bool, bool, datetime | None]
TicketRow = tuple[uuid.UUID, uuid.UUID, datetime]
# What record-metrics would have kept on each past day (tenant_daily_inputs).
DailyInputRow = tuple[uuid.UUID, date, int, int, int, int, datetime, str, datetime]

# Column order of each table's rows, parents before children (the order they are written in).
COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations": ("id", "name", "status", "tracks_support_tickets", "created_at"),
    "users": ("id", "organization_id", "email", "last_login_at"),
    "cases": ("id", "organization_id", "created_at", "closed_at", "sla_breach_at"),
    "campaigns": ("id", "organization_id", "completed_at", "total_assignments", "completed_assignments"),
    "organization_features": ("organization_id", "feature_key", "enabled", "is_used", "last_used_at"),
    "support_tickets": ("id", "organization_id", "created_at"),
}
DAILY_INPUT_COLUMNS = (
    "organization_id", "input_date", "total_users", "active_users", "features_enabled", "features_used",
    "as_of", "run_id", "recorded_at",
)  # fmt: skip
# The tables seed-demo writes: the source tables, then the recorded history of the fleet.
TABLES: dict[str, tuple[str, ...]] = {**COLUMNS, "tenant_daily_inputs": DAILY_INPUT_COLUMNS}

WINDOW_DAYS = 30  # the scoring window
SLA_HOURS = (8, 24, 48, 72)
STILL_OPEN = 0.05  # chance that a case is not closed yet
CAMPAIGN_IN_PROGRESS = 0.15  # chance that a campaign has no completed_at
CAMPAIGN_WITHOUT_ASSIGNMENTS = 0.05
USERS_PER_NORMAL_TICKET = 10  # one ticket a month per ten users is the scoring's baseline
RECORDED_DAYS = 30  # days of recorded daily inputs before as-of (record-metrics' history)
LOGIN_GAP_DAYS = (0.5, 6.0)  # an engaged user's mean days between logins, drawn per user
EVENT_HOURS = 2.4  # how long a lapsing tenant's launch event lasted
DROPPED_WITHIN_DAYS = (0.1, 0.9)  # a dropped feature was last used this long before as-of

NAME_WORDS = (
    "Acme", "Apex", "Beacon", "Blue Ridge", "Cedar", "Summit", "Harbor", "Ironwood", "Juniper", "Keystone",
    "Lakeside", "Meridian", "Northwind", "Oakmont", "Pinnacle", "Quarry", "Redwood", "Silverline", "Tidewater",
    "Union", "Vertex", "Westfield", "Evergreen", "Granite", "Horizon", "Maple", "Orion", "Prairie", "Riverbend",
)  # fmt: skip
INDUSTRY_WORDS = (
    "Logistics", "Health", "Retail", "Foods", "Energy", "Insurance", "Manufacturing", "Dental", "Realty",
    "Hospitality", "Construction", "Pharma", "Education", "Legal", "Freight", "Telecom", "Analytics", "Banking",
)  # fmt: skip
GIVEN_NAMES = (
    "ana", "ben", "carla", "david", "elena", "farid", "grace", "hugo", "irene", "jonas", "kim", "liam", "maria",
    "nina", "omar", "priya", "quinn", "rosa", "sam", "tariq", "uma", "victor", "wei", "yara", "zoe",
)  # fmt: skip
FAMILY_NAMES = (
    "garcia", "smith", "nguyen", "muller", "rossi", "kowalski", "silva", "tanaka", "okafor", "jensen", "dubois",
    "patel", "cohen", "larsen", "moreau", "novak", "haddad", "schmidt", "reyes", "ivanova",
)  # fmt: skip


@dataclass(frozen=True)
class Tenant:
    """One organization of the fleet and every source row that belongs to it."""

    profile: str
    organization: OrganizationRow
    users: list[UserRow]
    cases: list[CaseRow]
    campaigns: list[CampaignRow]
    features: list[FeatureRow]
    tickets: list[TicketRow]
    daily_inputs: list[DailyInputRow]

    def rows_by_table(self) -> dict[str, Sequence[tuple[object, ...]]]:
        return {
            "organizations": [self.organization],
            "users": self.users,
            "cases": self.cases,
            "campaigns": self.campaigns,
            "organization_features": self.features,
            "support_tickets": self.tickets,
            "tenant_daily_inputs": self.daily_inputs,
        }


@dataclass(frozen=True)
class Timeline:
    """When a tenant was active, in days before as-of: from `oldest_days` up to `newest_days`."""

    as_of: datetime
    newest_days: float  # later than this the tenant did nothing (suspended or churned)
    oldest_days: float  # its creation, or the start of the generated history
    intensity: tuple[float, float, float]

    @property
    def live_share(self) -> float:
        """The share of the generated history in which the tenant was active."""
        return max(0.0, self.oldest_days - self.newest_days) / HISTORY_DAYS

    def moments(self, at_least_days: float = 0) -> Moments:
        """Times of activity at least `at_least_days` ago, weighted by the intensity of their period."""
        spans: list[tuple[float, float]] = []
        weights: list[float] = []
        for (start, end), intensity in zip(PERIODS, self.intensity, strict=True):
            low, high = max(start, self.newest_days, at_least_days), min(end, self.oldest_days)
            if high > low:
                spans.append((low, high))
                weights.append(intensity * (high - low))
        return Moments(self.as_of, tuple(spans), tuple(itertools.accumulate(weights)))

    def recent_moment(self, rng: random.Random) -> datetime | None:
        """A time inside the scoring window, most likely in its last few days (active users log in often)."""
        low, high = self.newest_days, min(WINDOW_DAYS, self.oldest_days)
        if high <= low:
            return None
        return self.as_of - timedelta(days=low + (high - low) * rng.random() ** 2)


@dataclass(frozen=True)
class Moments:
    """Random times in some spans of days before as-of; a span is picked by its weight, then a day in it."""

    as_of: datetime
    spans: tuple[tuple[float, float], ...]
    cumulative_weights: tuple[float, ...]

    def draw(self, rng: random.Random) -> datetime | None:
        """A random time, or None when there are no spans (the tenant was never active then)."""
        if not self.spans:
            return None
        low, high = rng.choices(self.spans, cum_weights=self.cumulative_weights)[0]
        return self.as_of - timedelta(days=rng.uniform(low, high))


def random_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def profile_counts(tenants: int) -> dict[str, int]:
    """Tenants per profile: one of each when the fleet has room, the rest by share (largest remainder)."""
    each = 1 if tenants >= len(PROFILES) else 0
    rest = tenants - each * len(PROFILES)
    exact = [profile.share * rest for profile in PROFILES]
    counts = [math.floor(value) for value in exact]
    by_remainder = sorted(range(len(PROFILES)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: rest - sum(counts)]:
        counts[i] += 1
    return {profile.name: each + count for profile, count in zip(PROFILES, counts, strict=True)}


def generate_fleet(tenants: int, seed: int, as_of: datetime) -> Iterator[Tenant]:
    """The fleet's tenants, profiles shuffled so that neighbouring names are of different kinds."""
    rng = random.Random(seed)  # noqa: S311 - demo data must be reproducible, not unpredictable
    counts = profile_counts(tenants)
    profiles = [profile for profile in PROFILES for _ in range(counts[profile.name])]
    rng.shuffle(profiles)
    width = max(4, len(str(tenants)))
    for index, profile in enumerate(profiles, start=1):
        yield generate_tenant(rng, profile, f"{index:0{width}d}", as_of)


def generate_tenant(rng: random.Random, profile: Profile, number: str, as_of: datetime) -> Tenant:
    organization_id = random_uuid(rng)
    name = f"{rng.choice(NAME_WORDS)} {rng.choice(INDUSTRY_WORDS)} {number}"
    age_days = rng.uniform(*profile.age_days)
    timeline = Timeline(
        as_of=as_of,
        newest_days=rng.uniform(*profile.stopped_days_ago),
        oldest_days=min(age_days, HISTORY_DAYS),
        intensity=profile.intensity,
    )
    user_count = rng.randint(*profile.users)
    created_at = as_of - timedelta(days=age_days)
    organization = (
        organization_id,
        name,
        profile.status,
        profile.tracks_support_tickets,
        created_at,
    )
    users = generate_users(rng, profile, timeline, organization_id, email_domain(name), user_count)
    cases = generate_cases(rng, profile, timeline, organization_id, user_count)
    campaigns = generate_campaigns(rng, profile, timeline, organization_id, user_count)
    features = generate_features(rng, profile, timeline, organization_id)
    return Tenant(
        profile=profile.name,
        organization=organization,
        users=users,
        cases=cases,
        campaigns=campaigns,
        features=features,
        tickets=generate_tickets(rng, profile, timeline, organization_id, user_count),
        daily_inputs=recorded_history(organization, users, features, as_of) if profile.status == "ACTIVE" else [],
    )


def email_domain(organization_name: str) -> str:
    return organization_name.lower().replace(" ", "-") + ".example.com"


def generate_users(
    rng: random.Random, profile: Profile, timeline: Timeline, organization_id: uuid.UUID, domain: str, count: int
) -> list[UserRow]:
    engagement = rng.uniform(*profile.engagement)
    # Before the scoring window; a new tenant has no such time, so its invitees never logged in.
    before_window = timeline.moments(at_least_days=WINDOW_DAYS)
    event = timeline.as_of - timedelta(days=rng.uniform(*profile.lapsed_days)) if profile.lapsed_share else None
    users: list[UserRow] = []
    for number in range(1, count + 1):
        email = f"{rng.choice(GIVEN_NAMES)}.{rng.choice(FAMILY_NAMES)}{number}@{domain}"
        login = last_login(rng, profile, timeline, before_window, engagement, event)
        users.append((random_uuid(rng), organization_id, email, login))
    return users


def last_login(
    rng: random.Random,
    profile: Profile,
    timeline: Timeline,
    before_window: Moments,
    engagement: float,
    event: datetime | None = None,
) -> datetime | None:
    if rng.random() < engagement:
        return timeline.recent_moment(rng)
    if event is not None and rng.random() < profile.lapsed_share:
        return event - timedelta(hours=rng.uniform(0, EVENT_HOURS))
    if rng.random() < profile.never_logged_in:
        return None
    return before_window.draw(rng)


def generate_cases(
    rng: random.Random, profile: Profile, timeline: Timeline, organization_id: uuid.UUID, user_count: int
) -> list[CaseRow]:
    count = round(user_count * rng.uniform(*profile.cases_per_user) * timeline.live_share)
    breach_rate = rng.uniform(*profile.sla_breach)
    activity = timeline.moments()
    cases: list[CaseRow] = []
    for _ in range(count):
        created_at = activity.draw(rng)
        if created_at is not None:
            cases.append(case_row(rng, profile, timeline.as_of, organization_id, created_at, breach_rate))
    return cases


def case_row(
    rng: random.Random,
    profile: Profile,
    as_of: datetime,
    organization_id: uuid.UUID,
    created_at: datetime,
    breach_rate: float,
) -> CaseRow:
    sla_breach_at = None if rng.random() < profile.no_sla else created_at + timedelta(hours=rng.choice(SLA_HOURS))
    if sla_breach_at is None:
        closed_at = created_at + timedelta(hours=rng.uniform(1, 96))
    elif rng.random() < breach_rate:
        closed_at = sla_breach_at + timedelta(hours=rng.uniform(1, 72))
    else:
        closed_at = created_at + (sla_breach_at - created_at) * rng.uniform(0.1, 0.95)
    still_open = closed_at > as_of or rng.random() < STILL_OPEN
    return (random_uuid(rng), organization_id, created_at, None if still_open else closed_at, sla_breach_at)


def generate_campaigns(
    rng: random.Random, profile: Profile, timeline: Timeline, organization_id: uuid.UUID, user_count: int
) -> list[CampaignRow]:
    count = round(rng.randint(*profile.campaigns) * timeline.live_share)
    typical_completion = rng.uniform(*profile.assignment_completion)
    activity = timeline.moments()
    campaigns: list[CampaignRow] = []
    for _ in range(count):
        total = 0 if rng.random() < CAMPAIGN_WITHOUT_ASSIGNMENTS else rng.randint(1, max(1, user_count))
        completed_at = None if rng.random() < CAMPAIGN_IN_PROGRESS else activity.draw(rng)
        # A campaign still running has done less than the tenant's usual share.
        rate = rng.gauss(typical_completion, 0.1) if completed_at else rng.uniform(0, typical_completion)
        done = round(total * min(1.0, max(0.0, rate)))
        campaigns.append((random_uuid(rng), organization_id, completed_at, total, done))
    return campaigns


def generate_features(
    rng: random.Random, profile: Profile, timeline: Timeline, organization_id: uuid.UUID
) -> list[FeatureRow]:
    used_rate = rng.uniform(*profile.feature_used)
    activity = timeline.moments()
    features: list[FeatureRow] = []
    for key in FEATURE_KEYS:
        enabled = rng.random() < profile.feature_enabled
        used = enabled and rng.random() < used_rate
        last_used = activity.draw(rng) if used else None
        if used and profile.feature_dropped and rng.random() < profile.feature_dropped:
            # Used until just before as-of, not since: the flag says unused, the last use says when it stopped.
            used, last_used = False, timeline.as_of - timedelta(days=rng.uniform(*DROPPED_WITHIN_DAYS))
        features.append((organization_id, key, enabled, used, last_used))
    return features


def generate_tickets(
    rng: random.Random, profile: Profile, timeline: Timeline, organization_id: uuid.UUID, user_count: int
) -> list[TicketRow]:
    if not profile.tracks_support_tickets:
        return []
    baseline = max(1, math.ceil(user_count / USERS_PER_NORMAL_TICKET))
    per_month = baseline * rng.uniform(*profile.tickets_per_baseline)
    count = round(per_month * HISTORY_DAYS / WINDOW_DAYS * timeline.live_share)
    activity = timeline.moments()
    moments = (activity.draw(rng) for _ in range(count))
    return [(random_uuid(rng), organization_id, created_at) for created_at in moments if created_at is not None]


def recorded_history(
    organization: OrganizationRow, users: list[UserRow], features: list[FeatureRow], as_of: datetime
) -> list[DailyInputRow]:
    """The login and feature inputs record-metrics would have kept on each of the RECORDED_DAYS before as-of.

    The source rows hold only each user's latest login and each feature's current flags, so
    the fleet's past is filled in consistently with them: a user whose latest login is in the
    window logged in before too, every few days (since the tenant's creation); an enabled
    feature not used now but used within the history was used until then (see
    generate_features); the other flags held all along. Its own random stream, seeded by the
    organization id, leaves the source rows exactly as they were without history.
    """
    organization_id, created_at = organization[0], organization[4]
    rng = random.Random(organization_id.int)  # noqa: S311 - reproducible demo data
    age_days = (as_of - created_at) / timedelta(days=1)
    active_on = [0] * (RECORDED_DAYS + 1)  # active_on[k]: active users k days before as-of
    for _, _, _, login in users:
        if login is not None:
            for k in active_days(rng, (as_of - login) / timedelta(days=1), age_days):
                active_on[k] += 1
    enabled = [row for row in features if row[2]]
    used_now = sum(1 for row in enabled if row[3])
    dropped = [(as_of - row[4]) / timedelta(days=1) for row in enabled if not row[3] and row[4] is not None]
    rows: list[DailyInputRow] = []
    for k in range(RECORDED_DAYS, 0, -1):
        day = as_of - timedelta(days=k)
        if day < created_at:
            continue  # the tenant did not exist yet: nothing was recorded
        used = used_now + sum(1 for stopped in dropped if stopped < k)
        run_id = f"record-metrics-{day:%Y%m%dT%H%M%SZ}-demo"
        rows.append((organization_id, day.date(), len(users), active_on[k], len(enabled), used, day, run_id, day))
    return rows


def active_days(rng: random.Random, latest_login_days: float, age_days: float) -> Iterator[int]:
    """The days k (1..RECORDED_DAYS before as-of) whose window [k, k + 30] days ago holds one of a user's logins.

    Logins are counted back from the latest, at random gaps, until one lies before the
    earliest recorded day or the tenant's creation stops them.
    """
    login, days = latest_login_days, set[int]()
    mean_gap = rng.uniform(*LOGIN_GAP_DAYS)
    while True:
        days.update(range(max(1, math.ceil(login - WINDOW_DAYS)), min(RECORDED_DAYS, math.floor(login)) + 1))
        if login >= RECORDED_DAYS:
            break
        earlier = login + rng.expovariate(1 / mean_gap)
        if earlier > age_days:
            break  # this was the user's first login
        login = earlier
    yield from sorted(days)
