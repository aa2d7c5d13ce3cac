"""The one place that builds configuration from the environment (the README's configuration table).

Every variable is parsed and validated once, on first use; a bad value fails at
start-up with a `ConfigError` naming the variable. A handler asks for what it needs
with `Settings.require(...)`, so it does not depend on settings it never reads.
"""

from __future__ import annotations

import fnmatch
import re
from functools import cache
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from healthscore.core.weights import HEALTH_WEIGHTS, HealthWeights

Role = Literal["CLIENT_SUCCESS", "PLATFORM_ADMIN"]


class ConfigError(RuntimeError):
    """Configuration that cannot work; the message names the variable."""


class Settings(BaseSettings):
    """Environment variables of the README's configuration table; field `x_y` reads `X_Y`."""

    model_config = SettingsConfigDict(case_sensitive=False, frozen=True, extra="ignore")

    database_url: str | None = None
    db_secret_arn: str | None = None
    scoring_queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    fanout_function_name: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_jwks_url: str | None = None
    jwt_jwks_json: str | None = None
    roles_claim: str = "roles"
    iam_role_map: dict[str, list[Role]] = {}
    health_weights: HealthWeights = HEALTH_WEIGHTS
    risk_event_bus_name: str | None = None
    # The source tables belong to the platform's database there: do not create them.
    skip_source_tables_migration: bool = False
    # Connection defaults (dal/connection.py); a DATABASE_URL carrying its own value wins.
    db_connect_timeout: int = Field(default=5, ge=1)  # seconds: a wrong security group fails fast
    db_statement_timeout_ms: int = Field(default=30000, ge=0)  # 0: no limit
    db_sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    db_sslrootcert: str | None = None
    db_proxy: bool = False  # through RDS Proxy: no prepared statements, no startup options
    db_host: str | None = None  # the host to reach instead of DB_SECRET_ARN's (an RDS Proxy endpoint)

    @field_validator("database_url")
    @classmethod
    def _parsable_conninfo(cls, value: str | None) -> str | None:
        if value:
            import psycopg  # here, not at module level: the authorizer never needs it (~150 ms cold start)

            try:
                psycopg.conninfo.conninfo_to_dict(value)
            except psycopg.ProgrammingError as exc:
                # psycopg's message can echo the URL; keep the password out of logs.
                raise ValueError("not a PostgreSQL connection URL or conninfo string") from exc
        return value or None

    def require(self, *names: str) -> None:
        """Fail unless every named setting (env var name) is set."""
        missing = [name for name in names if getattr(self, name.lower()) in (None, "")]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set")

    def required(self, name: str) -> str:
        """The value of a setting (env var name) that must be set."""
        self.require(name)
        return str(getattr(self, name.lower()))

    def roles_for_principal(self, principal_arn: str) -> frozenset[Role]:
        """Roles of an IAM principal from IAM_ROLE_MAP (keys are ARN glob patterns)."""
        return frozenset(
            role
            for pattern, roles in self.iam_role_map.items()
            if fnmatch.fnmatchcase(principal_arn, pattern)
            for role in roles
        )


def load_settings() -> Settings:
    """Read and validate the environment; raise ConfigError naming each bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(_describe(error["loc"], error["msg"]) for error in exc.errors(include_url=False))
        raise ConfigError(f"invalid configuration: {problems}") from None
    except ValueError as exc:  # pydantic-settings raises this for a value that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = field.group(1).upper() if field else "environment"
        raise ConfigError(f"invalid configuration: {name}: not valid JSON") from None


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    name = str(loc[0]).upper()
    path = ".".join(str(part) for part in loc[1:])
    return f"{name}{'[' + path + ']' if path else ''}: {message}"


@cache
def get_settings() -> Settings:
    """The settings of this execution environment, validated once."""
    return load_settings()
