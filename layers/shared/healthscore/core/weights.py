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


class Weights(BaseModel):
    """Every component's weight: decimals, non-negative, summing exactly to 1; unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    login: Decimal = Field(ge=0)
    caseResolution: Decimal = Field(ge=0)  # noqa: N815 - contract name
    campaignCompletion: Decimal = Field(ge=0)  # noqa: N815
    featureAdoption: Decimal = Field(ge=0)  # noqa: N815
    supportTickets: Decimal = Field(ge=0)  # noqa: N815

    @model_validator(mode="after")
    def _sum_to_one(self) -> Weights:
        total = sum(self.of().values(), Decimal(0))
        if total != 1:
            raise ValueError(f"weights must sum to 1, they sum to {total}")
        return self

    def of(self) -> dict[Component, Decimal]:
        return {name: getattr(self, name) for name in COMPONENTS}


class HealthWeights(Weights):
    """HEALTH_WEIGHTS: section 4's weights unless configured (a renormalizing model)."""

    login: Decimal = Field(Decimal("0.30"), ge=0)
    caseResolution: Decimal = Field(Decimal("0.25"), ge=0)  # noqa: N815 - contract name
    campaignCompletion: Decimal = Field(Decimal("0.20"), ge=0)  # noqa: N815
    featureAdoption: Decimal = Field(Decimal("0.15"), ge=0)  # noqa: N815
    supportTickets: Decimal = Field(Decimal("0.10"), ge=0)  # noqa: N815

    @model_validator(mode="after")
    def _weighable(self) -> HealthWeights:
        if not weighable(self):
            raise ValueError(UNWEIGHABLE)
        return self


UNWEIGHABLE = "login and supportTickets cannot both be 0 (a tenant with only those would weigh nothing)"


def weighable(weights: Weights) -> bool:
    """Renormalizing, every scored tenant has login and supportTickets: one must weigh something."""
    return weights.login + weights.supportTickets != 0


HEALTH_WEIGHTS = HealthWeights()
