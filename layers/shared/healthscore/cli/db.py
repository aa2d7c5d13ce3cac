"""`healthscore db migrate`."""

from __future__ import annotations

import argparse

from healthscore.dal.connection import connect
from healthscore.dal.migrate import MigrationError, migrate
from healthscore.local.embedded_db import use_local_database


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    parser = db.add_parser("migrate", help="apply the migrations to DATABASE_URL (idempotent)")
    parser.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    with connect(use_local_database()) as conn:
        try:
            applied = migrate(conn)
        except MigrationError as exc:
            print(f"healthscore db migrate: {exc}")
            return 1
    print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "schema is up to date")
    return 0
