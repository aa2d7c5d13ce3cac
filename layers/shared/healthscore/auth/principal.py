"""Who a verified token speaks for, and how the authorizer hands that to the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, get_args

from healthscore.config import Role

ROLES: Final[frozenset[Role]] = frozenset(get_args(Role))


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[Role]

    def authorizer_context(self) -> dict[str, str]:
        """The authorizer's context: API Gateway accepts only strings, numbers and booleans there."""
        return {"sub": self.subject, "roles": ",".join(sorted(self.roles))}
