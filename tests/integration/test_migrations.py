from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from healthscore.dal.connection import DbConnection
from healthscore.dal.migrate import MigrationError, bundled_migrations, migrate, migrations_in

SOURCE_TABLES = {"organizations", "users", "cases", "campaigns", "organization_features", "support_tickets"}
RESULT_TABLES = {"tenant_health_scores", "usage_metrics", "scoring_runs", "run_tenant_outcomes"}


def tables(conn: DbConnection) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row["tablename"] for row in rows}


def test_from_empty_creates_every_table_and_rerun_is_a_no_op(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        applied = migrate(conn)
        assert applied == [m.version for m in bundled_migrations()]
        assert SOURCE_TABLES | RESULT_TABLES | {"schema_migrations"} <= tables(conn)
        assert migrate(conn) == []


def test_broken_migration_names_the_file_and_applies_nothing_of_it(conn: DbConnection, tmp_path: Path) -> None:
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE good_one (id int);")
    (tmp_path / "0002_broken.sql").write_text(
        "CREATE TABLE half_applied (id int);\nALTER TABLE no_such_table ADD COLUMN x int;"
    )
    with pytest.raises(MigrationError, match=r"0002_broken\.sql: relation \"no_such_table\" does not exist"):
        migrate(conn, migrations_in(tmp_path))
    assert "good_one" in tables(conn)
    assert "half_applied" not in tables(conn)
    versions = {r["version"] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    assert "0001_good.sql" in versions
    assert "0002_broken.sql" not in versions


def test_an_applied_file_that_changed_is_refused(conn: DbConnection, tmp_path: Path) -> None:
    (tmp_path / "0001_x.sql").write_text("CREATE TABLE x (id int);")
    migrate(conn, migrations_in(tmp_path))
    (tmp_path / "0001_x.sql").write_text("CREATE TABLE x (id bigint);")
    with pytest.raises(MigrationError, match=r"0001_x\.sql: already applied, but the file has changed"):
        migrate(conn, migrations_in(tmp_path))


def test_the_source_tables_migration_can_be_skipped(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Against the platform's database: 0001 is recorded, not run; the service's tables are created."""
    from healthscore_dev.cli.main import main

    with psycopg.connect(database_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")

        assert main(["db", "migrate", "--skip-source-tables"]) == 0

        assert "0001_source_tables.sql" not in capsys.readouterr().out
        assert tables(conn) >= RESULT_TABLES
        assert not SOURCE_TABLES & tables(conn)
        versions = {r["version"] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
        assert versions == {m.version for m in bundled_migrations()}
        assert migrate(conn) == []  # and a later plain migrate does not run it either


def test_the_latest_scores_table_is_backfilled_from_the_scores_stored(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        before = [m for m in bundled_migrations() if m.version < "0008"]
        migrate(conn, before)
        org = conn.execute(
            "INSERT INTO organizations (id, name, status) VALUES (gen_random_uuid(), 'Acme', 'ACTIVE') RETURNING id"
        ).fetchone()
        assert org is not None
        for day, score, risk in (("2026-11-01", 80, "LOW"), ("2026-11-02", 35, "HIGH")):
            conn.execute(
                "INSERT INTO tenant_health_scores (organization_id, score_date, overall_score, support_ticket_score,"
                " trend, risk_level, run_id, as_of, weights, inputs, explanation)"
                " VALUES (%s, %s, %s, %s, 'DECLINING', %s, 'r', now(), '{}', '{}', '{}')",
                (org["id"], day, score, score, risk),
            )

        assert migrate(conn)[0] == "0008_latest_scores.sql"  # and the later ones

        row = conn.execute("SELECT * FROM tenant_latest_scores").fetchone()
        assert row is not None
        assert (row["organization_name"], str(row["score_date"]), row["overall_score"]) == ("Acme", "2026-11-02", 35)
        assert (row["risk_level"], row["previous_risk_level"], row["effective_risk_level"]) == ("HIGH", "LOW", "HIGH")
