"""`healthscore db migrate`."""

from __future__ import annotations

import argparse

from healthscore.dal.connection import connect
from healthscore.dal.migrate import SOURCE_TABLES_MIGRATION, MigrationError, migrate, migrations_to_skip
from healthscore_dev.local.embedded_db import use_local_database


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database schema").add_subparsers(required=True)
    parser = db.add_parser("migrate", help="apply the migrations to DATABASE_URL (idempotent)")
    parser.add_argument(
        "--skip-source-tables",
        action="store_true",
        help=f"record {SOURCE_TABLES_MIGRATION} as applied without running it: the platform's database "
        "already has the source tables (also SKIP_SOURCE_TABLES_MIGRATION=true)",
    )
    parser.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    with connect(use_local_database()) as conn:
        try:
            applied = migrate(conn, skip=migrations_to_skip(args.skip_source_tables))
        except MigrationError as exc:
            print(f"healthscore db migrate: {exc}")
            return 1
    print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "schema is up to date")
    return 0
