"""Messages at the queue and fan-out boundaries (the scoring-queue message and the fan-out input)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

Job = Literal["calculate-scores", "record-metrics"]
MessageType = Literal["calculate-score", "record-metrics"]
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


class FanoutRequest(BaseModel):
    """The fan-out's input: the schedule's Input, or an async invoke from the API."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    job: Job
    as_of: AwareDatetime | None = Field(None, alias="asOf")
    run_id: str | None = Field(None, alias="runId", min_length=1, max_length=128)

    _to_utc = field_validator("as_of")(lambda v: None if v is None else _utc(v))
