"""One PostgreSQL connection per execution environment, opened lazily and reused.

A connection the server dropped (restart, idle timeout, failover) is noticed on the
next `get_connection()` and replaced, so one bad night does not poison a warm Lambda.
The connection is per thread: Lambda runs one invocation at a time per environment,
and the local runtime emulates concurrent environments with threads.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from psycopg.rows import dict_row

from healthscore.config import ConfigError, get_settings

# Every connection of the service returns rows as dicts.
DbConnection = psycopg.Connection[dict[str, Any]]

_environment = threading.local()


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
    """The reusable connection of this execution environment, (re)opened on demand."""
    conn: DbConnection | None = getattr(_environment, "connection", None)
    if conn is None or conn.closed or conn.broken:
        conn = _environment.connection = connect()
    return conn


def reset_connection() -> None:
    """Close and forget this environment's connection (tests)."""
    conn: DbConnection | None = getattr(_environment, "connection", None)
    if conn is not None:
        conn.close()
    _environment.connection = None
