"""Messages at the queue and fan-out boundaries (the scoring-queue message and the fan-out input)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from healthscore.core.profiles import ProfileId

Job = Literal["calculate-scores", "record-metrics"]
MessageType = Literal["calculate-score", "record-metrics"]
# A run's job: a fan-out's, or a profile's restatement (POST /profiles/{profileId}/restate).
RunJob = Literal["calculate-scores", "record-metrics", "restate"]
RESTATE_MAX_DAYS: Final = 400
# A restate message restates at most this many stored scores (tenants x days), a fraction of a second's
# work, so that a whole batch of them (the template's BatchSize 50) stays well inside the scorer's 60 s;
# and names at most RESTATE_MAX_TENANTS tenants (38 KB, far below SQS's 256 KB).
RESTATE_SCORES_PER_MESSAGE: Final = 8000
RESTATE_MAX_TENANTS: Final = 1000


def restate_tenants_per_message(days: int) -> int:
    return max(1, min(RESTATE_MAX_TENANTS, RESTATE_SCORES_PER_MESSAGE // days))


MESSAGE_TYPE_OF_JOB: dict[Job, MessageType] = {
    "calculate-scores": "calculate-score",
    "record-metrics": "record-metrics",
}


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class ScoringMessage(BaseModel):
    """The body of one scoring-queue message: one tenant, one job, one run."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: MessageType
    organization_id: UUID = Field(alias="organizationId")
    as_of: AwareDatetime = Field(alias="asOf")
    run_id: str = Field(alias="runId", min_length=1, max_length=128)

    _to_utc = field_validator("as_of")(_utc)

    def body(self) -> str:
        return self.model_dump_json(by_alias=True)


class RestateMessage(BaseModel):
    """The body of one restatement message: a range of tenants' stored days re-scored under a profile version."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["restate"]
    run_id: str = Field(alias="runId", min_length=1, max_length=128)
    profile_id: ProfileId = Field(alias="profileId")
    profile_version: int = Field(alias="profileVersion", ge=1)
    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    organization_ids: list[UUID] = Field(alias="organizationIds", min_length=1, max_length=RESTATE_MAX_TENANTS)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @model_validator(mode="after")
    def _bounded(self) -> RestateMessage:
        if not 1 <= self.days <= RESTATE_MAX_DAYS:
            raise ValueError(f"to must be on or after from, at most {RESTATE_MAX_DAYS} days")
        if len(self.organization_ids) > restate_tenants_per_message(self.days):
            raise ValueError(
                f"organizationIds: at most {restate_tenants_per_message(self.days)} tenants for {self.days} days"
            )
        return self

    @property
    def organization_id(self) -> UUID:
        """The first tenant of its range: what an enqueue failure names."""
        return self.organization_ids[0]

    def body(self) -> str:
        return self.model_dump_json(by_alias=True)


QueueMessage = ScoringMessage | RestateMessage


class FanoutRequest(BaseModel):
    """The fan-out's input: the schedule's Input, or an async invoke from the API."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    job: Job
    as_of: AwareDatetime | None = Field(None, alias="asOf")
    run_id: str | None = Field(None, alias="runId", min_length=1, max_length=128)

    _to_utc = field_validator("as_of")(lambda v: None if v is None else _utc(v))
