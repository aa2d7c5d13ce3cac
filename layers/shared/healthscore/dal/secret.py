"""Database URL from a Secrets Manager secret (the RDS secret format), cached."""

from __future__ import annotations

from urllib.parse import quote

from aws_lambda_powertools.utilities import parameters

from healthscore.config import ConfigError

SECRET_MAX_AGE_SECONDS = 300  # picks up a rotated password within five minutes


def database_url_from_secret(secret_arn: str) -> str:
    secret = parameters.get_secret(secret_arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    if not isinstance(secret, dict):
        raise ConfigError("DB_SECRET_ARN: the secret is not a JSON object")
    try:
        user, password, host = secret["username"], secret["password"], secret["host"]
    except KeyError as exc:
        raise ConfigError(f"DB_SECRET_ARN: the secret has no {exc.args[0]!r}") from None
    port = secret.get("port", 5432)
    dbname = secret.get("dbname", "postgres")
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(dbname, safe='')}"
