"""The embedded PostgreSQL of local mode (`pgserver`), used unless DATABASE_URL is set.

Its data folder lives under the project's `.local/` (git-ignored) and is reused by
the next run; the server stops when the last process using it exits.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import psycopg

from healthscore.config import get_settings
from healthscore.dal.connection import database_url

LOCAL_DIR_ENV = "HEALTHSCORE_LOCAL_DIR"
DATABASE_NAME = "healthscore"


def local_dir() -> Path:
    return Path(os.environ.get(LOCAL_DIR_ENV) or Path.cwd() / ".local")


def start_embedded_server(pgdata: Path) -> str:
    """Start (or join) the embedded server in `pgdata`; return its admin URL."""
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers; harmless
        warnings.simplefilter("ignore")
        import pgserver  # dev-only dependency: never imported by a Lambda

    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    _servers.append(server)  # the server lives as long as this process holds a handle
    return str(server.get_uri())


_servers: list[Any] = []


def stop_embedded_servers() -> None:
    """Stop the embedded servers this process started (pgserver leaves one another process uses)."""
    while _servers:
        _servers.pop().cleanup()


def ensure_database(admin_url: str, name: str) -> str:
    """Create database `name` on the server if missing; return its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **info)


def use_local_database() -> str:
    """DATABASE_URL if set, or DB_SECRET_ARN's; otherwise start the embedded server and point DATABASE_URL at it."""
    if os.environ.get("DATABASE_URL") or os.environ.get("DB_SECRET_ARN"):
        return database_url()  # validated: a bad value is a ConfigError
    url = ensure_database(start_embedded_server(local_dir() / "pgdata"), DATABASE_NAME)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    return url
