"""One PostgreSQL connection per execution environment, opened lazily and reused.

A connection the server dropped (restart, idle timeout, failover) is noticed on the
next `get_connection()` and replaced, so one bad night does not poison a warm Lambda.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from healthscore.config import ConfigError, get_settings

# Every connection of the service returns rows as dicts.
DbConnection = psycopg.Connection[dict[str, Any]]

_connection: DbConnection | None = None


def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if settings.db_secret_arn:
        from healthscore.dal.secret import database_url_from_secret  # boto3 only when needed

        return database_url_from_secret(settings.db_secret_arn)
    raise ConfigError("DATABASE_URL (or DB_SECRET_ARN) must be set")


def connect(url: str | None = None) -> DbConnection:
    return psycopg.connect(url or database_url(), autocommit=True, row_factory=dict_row)


def get_connection() -> DbConnection:
    """The reusable connection of this execution environment (re)opened on demand."""
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = connect()
    return _connection


def reset_connection() -> None:
    """Close and forget the reused connection (tests, and after a failed batch)."""
    global _connection
    if _connection is not None:
        _connection.close()
    _connection = None
