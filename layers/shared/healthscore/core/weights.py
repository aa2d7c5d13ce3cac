"""HEALTH_WEIGHTS: the weight of each component in the overall score (docs/scoring.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Component = Literal["login", "caseResolution", "campaignCompletion", "featureAdoption", "supportTickets"]
COMPONENTS: tuple[Component, ...] = (
    "login",
    "caseResolution",
    "campaignCompletion",
    "featureAdoption",
    "supportTickets",
)


class HealthWeights(BaseModel):
    """Non-negative decimal weights summing exactly to 1; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    login: Decimal = Field(Decimal("0.30"), ge=0)
    caseResolution: Decimal = Field(Decimal("0.25"), ge=0)  # noqa: N815 - contract name
    campaignCompletion: Decimal = Field(Decimal("0.20"), ge=0)  # noqa: N815
    featureAdoption: Decimal = Field(Decimal("0.15"), ge=0)  # noqa: N815
    supportTickets: Decimal = Field(Decimal("0.10"), ge=0)  # noqa: N815

    @model_validator(mode="after")
    def _sum_to_one(self) -> HealthWeights:
        total = sum(self.of().values(), Decimal(0))
        if total != 1:
            raise ValueError(f"weights must sum to 1, they sum to {total}")
        if self.login + self.supportTickets == 0:
            # A scored tenant always has these two; with both at 0 some tenants weigh nothing.
            raise ValueError("login and supportTickets cannot both be 0")
        return self

    def of(self) -> dict[Component, Decimal]:
        return {name: getattr(self, name) for name in COMPONENTS}


HEALTH_WEIGHTS = HealthWeights()
