"""The one place that builds configuration from the environment (the README's configuration table).

Every variable is parsed and validated once, on first use; a bad value fails at
start-up with a `ConfigError` naming the variable. A handler asks for what it needs
with `Settings.require(...)`, so it does not depend on settings it never reads.

A plain pydantic model over `os.environ`, not pydantic-settings: importing that costs
55-95 ms of every cold start (its sources import dotenv, importlib.metadata, typing
inspection...), for a reading of environment variables that this module does in a few lines.
Field `x_y` reads `X_Y`; a field whose type is a dict or a model reads JSON.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from healthscore.core.weights import HEALTH_WEIGHTS, HealthWeights

Role = Literal["CLIENT_SUCCESS", "PLATFORM_ADMIN"]


class ConfigError(RuntimeError):
    """Configuration that cannot work; the message names the variable."""


class Settings(BaseModel):
    """Environment variables of the README's configuration table; field `x_y` reads `X_Y`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    database_url: str | None = None
    db_secret_arn: str | None = None
    scoring_queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    fanout_function_name: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_jwks_url: str | None = None
    jwt_jwks_json: str | None = None
    # How long fetched JWKS keys are trusted before the JWKS is fetched again: a key the identity
    # provider removed stops verifying within this time, even if no token names an unknown kid.
    jwks_max_age_seconds: int = Field(default=3600, ge=60)
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

    @field_validator("jwt_audience")
    @classmethod
    def _audience_list(cls, value: str | None) -> str | None:
        if value is not None and value.strip() and not all(part.strip() for part in value.split(",")):
            raise ValueError("a comma-separated list of audiences, none of them empty")
        return value

    @property
    def jwt_audiences(self) -> frozenset[str]:
        """The audiences of JWT_AUDIENCE (one, or several separated by commas)."""
        return frozenset(part.strip() for part in (self.jwt_audience or "").split(",") if part.strip())

    def require(self, *names: str) -> None:
        """Fail unless every named setting (env var name) is set."""
        missing = [name for name in names if getattr(self, name.lower()) in (None, "")]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set")

    def required(self, name: str) -> str:
        """The value of a setting (env var name) that must be set."""
        self.require(name)
        return str(getattr(self, name.lower()))

    @field_validator("iam_role_map")
    @classmethod
    def _principals_as_api_gateway_reports_them(cls, value: dict[str, list[Role]]) -> dict[str, list[Role]]:
        never = sorted(key for key in value if _IAM_ROLE_KEY.match(key))
        if never:
            raise ValueError(
                f"{', '.join(never)}: a role's arn:aws:iam:: ARN never matches, because API Gateway reports a caller"
                " signing with the role's credentials as arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION;"
                " write arn:aws:sts::ACCOUNT:assumed-role/ROLE (any session) instead"
            )
        return value

    def roles_for_principal(self, principal_arn: str) -> frozenset[Role]:
        """Roles of an IAM principal from IAM_ROLE_MAP, whose keys are ARN glob patterns.

        A caller signing with a role's temporary credentials is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`;
        a key without the session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE`) matches every session of that role,
        since session names are chosen by whoever assumes the role.
        """
        assumed = _ASSUMED_ROLE_SESSION.fullmatch(principal_arn)
        candidates = (principal_arn, assumed["role"]) if assumed else (principal_arn,)
        return frozenset(
            role
            for pattern, roles in self.iam_role_map.items()
            if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates)
            for role in roles
        )


# arn:aws:sts::123456789012:assumed-role/ROLE/SESSION: "role" is the ARN without its session.
_ASSUMED_ROLE_SESSION = re.compile(r"(?P<role>arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+)/[^/]+")
_IAM_ROLE_KEY = re.compile(r"arn:aws[a-z-]*:iam::[^:]*:role/")


def load_settings() -> Settings:
    """Read and validate the environment; raise ConfigError naming each bad variable."""
    values, problems = _environment_values()
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        problems += [_describe(error["loc"], error["msg"]) for error in exc.errors(include_url=False)]
    else:
        if not problems:
            return settings
    raise ConfigError(f"invalid configuration: {'; '.join(problems)}") from None


# Fields read as JSON (a dict or a model); the others are strings pydantic parses.
_JSON_FIELDS = frozenset({"iam_role_map", "health_weights"})


def _environment_values() -> tuple[dict[str, Any], list[str]]:
    """The set variables by field name, JSON ones decoded (numbers as exact decimals), and JSON errors."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field in Settings.model_fields:
        raw = os.environ.get(field.upper())
        if raw is None:
            continue
        if field not in _JSON_FIELDS:
            values[field] = raw
            continue
        try:
            values[field] = json.loads(raw, parse_float=Decimal)
        except ValueError:
            problems.append(f"{field.upper()}: not valid JSON")
    return values, problems


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    name = str(loc[0]).upper()
    path = ".".join(str(part) for part in loc[1:])
    return f"{name}{'[' + path + ']' if path else ''}: {message}"


@cache
def get_settings() -> Settings:
    """The settings of this execution environment, validated once."""
    return load_settings()
