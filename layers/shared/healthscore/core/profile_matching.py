"""Which profile scores a tenant (docs/scoring.md, "Profiles and overrides"). Pure.

The matching profile of lowest `priority` wins, ties going to the smaller `profileId`;
`default` matches everyone and is tried last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from healthscore.core.profiles import DEFAULT_PROFILE_ID, ScoringProfile, Segment


@dataclass(frozen=True)
class TenantFacts:
    """What a segment can ask about a tenant."""

    organization_id: UUID
    total_users: int
    created_at: datetime | None  # None: age unknown, so no age segment matches


def segment_matches(
    segment: Segment, tenant: TenantFacts, as_of: datetime, organization_ids: frozenset[UUID] | None = None
) -> bool:
    """Every key the segment holds is true of the tenant as of `as_of` (`organization_ids`: its list as a set)."""
    if segment.tenant_age_days_below is not None and (
        tenant.created_at is None or as_of - tenant.created_at >= timedelta(days=segment.tenant_age_days_below)
    ):
        return False
    if segment.min_users is not None and tenant.total_users < segment.min_users:
        return False
    if segment.max_users is not None and tenant.total_users > segment.max_users:
        return False
    if segment.organization_ids is None:
        return True
    return tenant.organization_id in (organization_ids or frozenset(segment.organization_ids))


def precedence(profile: ScoringProfile) -> tuple[bool, int, str]:
    return (profile.profile_id == DEFAULT_PROFILE_ID, profile.priority, profile.profile_id)


class ProfileSet:
    """The active profiles in the order they are tried; `default` must be among them."""

    def __init__(self, profiles: Iterable[ScoringProfile]) -> None:
        self.ordered: tuple[ScoringProfile, ...] = tuple(sorted(profiles, key=precedence))
        if not self.ordered or self.ordered[-1].profile_id != DEFAULT_PROFILE_ID:
            raise ValueError("the default profile must be among the active profiles")
        # organizationIds as sets: matching a fleet stays linear in it.
        self._ids = {p.profile_id: frozenset(p.segment.organization_ids or ()) for p in self.ordered}

    def with_candidate(self, candidate: ScoringProfile) -> ProfileSet:
        """These profiles with `candidate` standing in for the one of its id (or added)."""
        return ProfileSet([p for p in self.ordered if p.profile_id != candidate.profile_id] + [candidate])

    def profile_for(self, tenant: TenantFacts, as_of: datetime) -> ScoringProfile:
        for profile in self.ordered:
            if profile.profile_id == DEFAULT_PROFILE_ID or segment_matches(
                profile.segment, tenant, as_of, self._ids[profile.profile_id]
            ):
                return profile
        raise AssertionError("unreachable: default matches everyone")

    def get(self, profile_id: str) -> ScoringProfile | None:
        return next((p for p in self.ordered if p.profile_id == profile_id), None)
