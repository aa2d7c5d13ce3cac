"""The opaque keyset cursor of `GET /scores`: base64url JSON, never an offset.

It carries the last row's sort value and organization id, and the snapshot time of
the first page: later pages read each tenant's latest score as of that time, so a
score written while a client pages through does not move a tenant across pages.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    field_validator,
)
from pydantic_core.core_schema import ValidationInfo

from healthscore.api.problems import BadParameterError
from healthscore.core.text import NO_NUL_PATTERN
from healthscore.models.api import SortBy, SortOrder

SortValue = int | str | datetime
SORT_VALUE_TYPES: Final[dict[SortBy, TypeAdapter[Any]]] = {
    "overallScore": TypeAdapter(StrictInt),
    "organizationName": TypeAdapter(Annotated[str, StringConstraints(strict=True, pattern=NO_NUL_PATTERN)]),
    "calculatedAt": TypeAdapter(AwareDatetime),
}


class Cursor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    sort_by: SortBy = Field(alias="k")
    order: SortOrder = Field(alias="o")
    value: SortValue = Field(alias="v")  # the sort column's value on the last row returned
    organization_id: UUID = Field(alias="id")
    snapshot: AwareDatetime = Field(alias="s")

    @field_validator("value", mode="before")
    @classmethod
    def _typed_for_sort(cls, value: Any, info: ValidationInfo) -> Any:
        sort_by = info.data.get("sort_by")
        if sort_by is None:
            raise ValueError("no sort key")
        return SORT_VALUE_TYPES[sort_by].validate_python(value)

    def encode(self) -> str:
        return base64.urlsafe_b64encode(self.model_dump_json(by_alias=True).encode()).rstrip(b"=").decode()


def decode_cursor(token: str, sort_by: SortBy, order: SortOrder) -> Cursor:
    """The cursor of `token`, which must come from a page of the same sortBy and order."""
    try:
        cursor = Cursor.model_validate_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:  # bad base64, JSON or shape (binascii.Error and ValidationError are ValueErrors)
        raise BadParameterError("cursor", "not a cursor returned by this listing (pass nextCursor as it is)") from None
    if (cursor.sort_by, cursor.order) != (sort_by, order):
        raise BadParameterError(
            "cursor",
            f"issued for sortBy={cursor.sort_by}&order={cursor.order}; keep them or start again without a cursor",
        )
    return cursor
