"""Scoring profiles: the rules one segment of tenants is scored by (docs/scoring.md, "Profiles and overrides"). Pure.

A profile carries the weights, what to do with a component without data, the risk
thresholds and the trend threshold. Section 4's formulas are the `default` profile.
Validation errors name the field (pydantic's `loc`), so the API's 422 can say which.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from healthscore.core.text import StoredText
from healthscore.core.weights import COMPONENTS, UNWEIGHABLE, Component, HealthWeights, Weights, weighable

DEFAULT_PROFILE_ID: Final = "default"
PROFILE_ID_PATTERN: Final = r"^[a-z0-9-]{1,64}$"
# The default profile matches everyone and is tried last whatever its priority; this is what it is seeded with.
DEFAULT_PRIORITY: Final = 1000

ProfileId = Annotated[str, Field(pattern=PROFILE_ID_PATTERN, description="A slug: ^[a-z0-9-]{1,64}$")]
MissingData = Literal["renormalize", "neutral"]
Score = Annotated[int, Field(ge=0, le=100)]


class ProfileModel(BaseModel):
    """JSON names in camelCase (the contract's), Python names in snake_case; unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")


class RiskThresholds(ProfileModel):
    """HIGH below `high`, or below `highIfDeclining` when declining; MEDIUM below `medium` or declining."""

    high: Score = 40
    high_if_declining: Score = 60
    medium: Score = 70

    @model_validator(mode="after")
    def _in_order(self) -> RiskThresholds:
        if not self.high <= self.high_if_declining <= self.medium:
            raise ValueError(
                f"must satisfy high <= highIfDeclining <= medium, got {self.high}, {self.high_if_declining},"
                f" {self.medium}"
            )
        return self


class Segment(ProfileModel):
    """Which tenants a profile is for; every key given must hold. Empty: everyone."""

    tenant_age_days_below: int | None = Field(
        None, ge=1, description="Organization created less than N days before the score's as-of"
    )
    min_users: int | None = Field(None, ge=0)
    max_users: int | None = Field(None, ge=0)
    organization_ids: list[UUID] | None = None

    @field_validator("max_users")
    @classmethod
    def _not_below_min(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min_users")
        if value is not None and low is not None and low > value:
            raise ValueError(f"maxUsers {value} is below minUsers {low}")
        return value


class ProfileDocument(ProfileModel):
    """A profile as an administrator writes it (the body of PUT /profiles/{profileId})."""

    name: StoredText | None = Field(None, min_length=1, max_length=200, description="Defaults to the profile's id")
    priority: int = Field(ge=-1_000_000, le=1_000_000, description="Lowest wins among matching profiles")
    segment: Segment = Segment()
    # Before `weights`: the weights' validator reads it.
    missing_data: MissingData = "renormalize"
    neutral_score: Score = 50
    weights: Weights
    risk_thresholds: RiskThresholds = RiskThresholds()
    trend_threshold: Score = 5

    @field_validator("weights")
    @classmethod
    def _weighable(cls, value: Weights, info: ValidationInfo) -> Weights:
        if info.data.get("missing_data", "renormalize") == "renormalize" and not weighable(value):
            raise ValueError(f"{UNWEIGHABLE}, with missingData renormalize")
        return value


class ScoringProfile(ProfileDocument):
    """One immutable version of a profile: what the scorer and the preview score with."""

    profile_id: ProfileId
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)

    @cached_property
    def weight_units(self) -> dict[Component, int]:
        """The weights as integers over one common denominator (exact), computed once per profile."""
        fractions = {name: Fraction(weight) for name, weight in self.weights.of().items()}
        denominator = math.lcm(*(f.denominator for f in fractions.values()))
        return {name: f.numerator * (denominator // f.denominator) for name, f in fractions.items()}

    def document(self) -> dict[str, Any]:
        """What is stored for this version (everything but its id and version), in JSON names."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"profile_id", "version"})

    # The two below are stored with every score: computed once per profile version, and shared by the rows
    # that store them (read-only; a profile version is immutable).
    @cached_property
    def stored_weights(self) -> dict[Component, str]:
        """The weights as a score stores them: exact decimal strings."""
        return {name: str(value) for name, value in self.weights.of().items()}

    @cached_property
    def rules(self) -> dict[str, Any]:
        """What, besides the weights, a stored score needs to be reproduced: kept in its explanation."""
        return self.model_dump(
            mode="json",
            by_alias=True,
            include={"profile_id", "version", "missing_data", "neutral_score", "risk_thresholds", "trend_threshold"},
        )


class ProfileError(ValueError):
    """A profile that breaks a rule pydantic cannot see (the field is named)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def new_version(profile_id: str, document: ProfileDocument, version: int) -> ScoringProfile:
    """The profile `document` saved as `version` of `profile_id`, its defaults filled in."""
    if profile_id == DEFAULT_PROFILE_ID and document.segment != Segment():
        raise ProfileError("segment", "the default profile matches every tenant; its segment must be empty")
    fields = document.model_dump(by_alias=True, exclude={"name"})  # by alias: an error names the JSON field
    return ScoringProfile.model_validate(
        {**fields, "profileId": profile_id, "version": version, "name": document.name or profile_id}
    )


def default_document(weights: HealthWeights) -> ProfileDocument:
    """Version 1 of the default profile: section 4's rules with these weights (HEALTH_WEIGHTS)."""
    return ProfileDocument(
        name="Default",
        priority=DEFAULT_PRIORITY,
        weights=Weights(**weights.of()),
    )


def default_profile(weights: HealthWeights | None = None) -> ScoringProfile:
    """Section 4 exactly, as version 1 of `default` (the weights are HEALTH_WEIGHTS' unless given)."""
    return new_version(DEFAULT_PROFILE_ID, default_document(weights or HealthWeights()), 1)


def same_weights(profile: ScoringProfile, weights: Weights) -> bool:
    return all(profile.weights.of()[name] == Decimal(weights.of()[name]) for name in COMPONENTS)
