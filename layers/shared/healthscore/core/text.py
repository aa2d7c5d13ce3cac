"""Text the database can store: PostgreSQL's text type refuses the NUL character, so a request carrying one
is refused at the boundary (a 422 naming the field), not by the database (a 500)."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import StringConstraints

NO_NUL_PATTERN: Final = r"^[^\x00]*$"
StoredText = Annotated[str, StringConstraints(pattern=NO_NUL_PATTERN)]
