"""The profile routes' bodies (docs/scoring.md, "Profiles and overrides"): JSON in camelCase."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field, field_serializer

from healthscore.core.profiles import ProfileDocument, ProfileId, ScoringProfile, Segment
from healthscore.core.scoring import RiskLevel
from healthscore.core.weights import Component, Weights
from healthscore.models.api import ApiModel


class ProfileOut(ScoringProfile):
    """A profile's active version; weights as JSON numbers (stored as exact decimal strings)."""

    @field_serializer("weights")
    def _numbers(self, weights: Weights) -> dict[Component, float]:
        return {name: float(value) for name, value in weights.of().items()}

    @field_serializer("segment")
    def _given_keys(self, segment: Segment) -> dict[str, Any]:
        """Only the keys the segment holds: `{}` is everyone."""
        return segment.model_dump(mode="json", by_alias=True, exclude_none=True)


class ProfileBody(ProfileDocument):
    """The body of PUT and POST .../preview: a whole profile, exactly as GET shows one (PUT replaces it).

    A `profileId` must equal the path's (the routes check it); a `version` is ignored: the database numbers them.
    """

    # A slug like the path's, so that a hostile value is refused by its shape and never echoed in the 422.
    profile_id: ProfileId | None = Field(None, description="Optional; when given, must equal the path's profileId")
    version: int | None = Field(None, description="Ignored: every save makes the next version")

    def document(self) -> ProfileDocument:
        return ProfileDocument.model_validate(self.model_dump(exclude={"profile_id", "version"}))


class ProfileList(ApiModel):
    items: list[ProfileOut]


class PreviewMover(ApiModel):
    organization_id: UUID
    organization_name: str
    score_from: int = Field(alias="from", description="The latest stored overall score")
    score_to: int = Field(alias="to", description="The overall score under the candidate")
    risk_from: RiskLevel
    risk_to: RiskLevel


class ProfilePreview(ApiModel):
    tenants: int = Field(description="Tenants the candidate would score")
    changed: int = Field(description="Of those, tenants whose overall score would change")
    risk_transitions: dict[RiskLevel, dict[RiskLevel, int]] = Field(
        description="Tenants by latest risk level, then by risk level under the candidate"
    )
    movers: list[PreviewMover] = Field(description="At most 20, largest absolute change first")
