"""One PostgreSQL connection per execution environment, opened lazily and reused.

A warm connection can die without psycopg knowing: a server restart, a failover,
`pg_terminate_backend`, or RDS Proxy closing clients idle for 30 minutes all leave it
`closed` false and `broken` false until a statement fails on it. So `get_connection()`,
called once at the start of each invocation (a scorer batch, an API request), checks the
connection and replaces it once if it is dead: not a failed batch or a 500 after every idle
night. Each of those closings reaches the client (the server's FATAL message, or the FIN of
its socket), and an idle connection has nothing else to read: so a socket with nothing to
read is alive and costs no round trip; one that has something gets the empty query,
psycopg_pool's own check. A connection lost without a word (a failover that moves the
address, a dropped network path: no FIN) passes both checks: TCP keepalives and
`tcp_user_timeout` find it in seconds instead (KEEPALIVE_SETTINGS): a statement sent on it
fails once its bytes stay unacknowledged for 5 s, an idle one once 3 probes 2 s apart go
unanswered after 10 s of silence. The failed statement is an OperationalError, the API's 503;
the scorer takes a new connection before its one-by-one retries (logic/scoring_batch.py).

Connections get the settings of `healthscore.config` (connect timeout, TLS mode, statement
timeout, prepared statements off behind RDS Proxy) unless DATABASE_URL carries its own.
The connection is per thread: Lambda runs one invocation at a time per environment,
and the local runtime emulates concurrent environments with threads.
"""

from __future__ import annotations

import select
import threading
from typing import Any

import psycopg
from psycopg.rows import dict_row

from healthscore.config import ConfigError, Settings, get_settings

# Every connection of the service returns rows as dicts.
DbConnection = psycopg.Connection[dict[str, Any]]

_environment = threading.local()
# libpq's TCP settings (a URL can set its own): detection of a dead peer in seconds, not TCP's
# default 15 minutes of retransmissions or 2 hours before the first keepalive.
KEEPALIVE_SETTINGS = {
    "keepalives": 1,
    "keepalives_idle": 10,  # seconds of silence before the first probe
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 5000,  # ms a sent byte may stay unacknowledged
}


def database_url(*, refresh_secret: bool = False) -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if settings.db_secret_arn:
        from healthscore.dal.secret import database_url_from_secret  # boto3 only when needed

        return database_url_from_secret(settings.db_secret_arn, refresh=refresh_secret, host=settings.db_host)
    raise ConfigError("DATABASE_URL (or DB_SECRET_ARN) must be set")


def connection_info(url: str, settings: Settings) -> str:
    """The URL with the configured defaults added where it does not say otherwise."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    params.setdefault("connect_timeout", settings.db_connect_timeout)
    params.setdefault("sslmode", settings.db_sslmode)
    for name, value in KEEPALIVE_SETTINGS.items():
        params.setdefault(name, value)
    if settings.db_sslrootcert:
        params.setdefault("sslrootcert", settings.db_sslrootcert)
    # RDS Proxy refuses startup options ("RDS Proxy currently doesn't support command-line
    # options"): behind it the timeout is the database role's (docs/deploy.md).
    options = str(params.get("options") or "")
    if not settings.db_proxy and settings.db_statement_timeout_ms and "statement_timeout" not in options:
        params["options"] = f"{options} -c statement_timeout={settings.db_statement_timeout_ms}".strip()
    return psycopg.conninfo.make_conninfo("", **params)


def connect(url: str | None = None) -> DbConnection:
    settings = get_settings()
    try:
        return _open(url or database_url(), settings)
    except psycopg.OperationalError as exc:
        if url or not settings.db_secret_arn or not is_authentication_failure(exc):
            raise
    # The password was rotated since the cached secret was read: read it again, once.
    return _open(database_url(refresh_secret=True), settings)


def _open(url: str, settings: Settings) -> DbConnection:
    return psycopg.connect(
        connection_info(url, settings),
        autocommit=True,
        row_factory=dict_row,
        # RDS Proxy pins a client to one database connection once it prepares a statement.
        prepare_threshold=None if settings.db_proxy else 5,
    )


def is_authentication_failure(exc: psycopg.OperationalError) -> bool:
    # 28P01 invalid_password, 28000 invalid_authorization_specification; libpq's
    # connection errors often carry no SQLSTATE, hence the message as a fallback.
    return exc.sqlstate in ("28P01", "28000") or "password authentication failed" in str(exc)


def get_connection() -> DbConnection:
    """The live connection of this environment: checked, and replaced once if dead."""
    conn: DbConnection | None = getattr(_environment, "connection", None)
    if conn is not None and not conn.closed and not conn.broken:
        if not _has_input(conn):
            return conn
        try:
            conn.execute("")
            return conn
        except psycopg.OperationalError:
            conn.close()  # dead since its last use; a new one below, and its error if that fails too
    _environment.connection = None
    conn = _environment.connection = connect()
    return conn


def _has_input(conn: DbConnection) -> bool:
    """Whether the idle connection's socket has anything to read (without waiting)."""
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    return bool(readable)


def reset_connection() -> None:
    """Close and forget this environment's connection (tests)."""
    conn: DbConnection | None = getattr(_environment, "connection", None)
    if conn is not None:
        conn.close()
    _environment.connection = None
