"""Database connection string from a Secrets Manager secret (the RDS secret format), cached.

The secret is the JSON that RDS and Secrets Manager's rotation functions read and write:
`{"engine": "postgres", "host", "port", "username", "password", "dbname"}`. A rotation
changes it under a warm environment; `connect()` asks again with `refresh=True` when the
database refuses the cached password, and the cache expires after five minutes anyway.
"""

from __future__ import annotations

import psycopg
from psycopg.conninfo import make_conninfo

from healthscore.aws.clients import secrets_provider
from healthscore.config import ConfigError

SECRET_MAX_AGE_SECONDS = 300  # picks up a rotated password within five minutes


def database_url_from_secret(secret_arn: str, *, refresh: bool = False, host: str | None = None) -> str:
    """`host`, where given, replaces the secret's: RDS Proxy reads only the credentials of the secret."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        secret = secrets_provider().get(
            secret_arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS, force_fetch=refresh
        )
    except GetParameterError as exc:  # Secrets Manager unreachable or refusing: no credentials, no database
        raise psycopg.OperationalError(f"DB_SECRET_ARN: the secret could not be read ({exc})") from exc
    if not isinstance(secret, dict):
        raise ConfigError("DB_SECRET_ARN: the secret is not a JSON object")
    try:
        user, password = secret["username"], secret["password"]
        host = host or secret["host"]
    except KeyError as exc:
        raise ConfigError(f"DB_SECRET_ARN: the secret has no {exc.args[0]!r}") from None
    # A conninfo string rather than a URL: nothing to escape, whatever the password holds.
    return make_conninfo(
        host=host, port=secret.get("port", 5432), user=user, password=password, dbname=secret.get("dbname", "postgres")
    )
