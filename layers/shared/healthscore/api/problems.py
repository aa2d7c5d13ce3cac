"""What can go wrong with a request, in the API's own terms; `errors` maps each to HTTP."""

from __future__ import annotations


class NotAuthenticatedError(Exception):
    """The request carries no usable authorizer context."""


class NotAuthorizedError(Exception):
    """The caller is known but lacks the role the operation needs."""


class ResourceNotFoundError(Exception):
    """The organization, its score or the run does not exist."""


class BadParameterError(Exception):
    """A parameter passed validation of its type but cannot be used (e.g. a foreign cursor)."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class ConflictError(Exception):
    """The request cannot be done in the resource's current state (e.g. deleting the default profile)."""


class BadBodyError(BadParameterError):
    """A body field that has the right type but breaks a rule (e.g. an expiry in the past): a 422, as pydantic's."""
