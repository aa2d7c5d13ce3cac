"""`healthscore seed-demo` against a real PostgreSQL, through the real CLI entry point."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from psycopg import sql

from healthscore.core.profiles import default_profile
from healthscore.core.scoring import health_score, risk_level
from healthscore.dal.connection import DbConnection
from healthscore.dal.usage import fetch_usage
from healthscore_dev.cli.main import main
from healthscore_dev.demo.fleet import profile_counts
from healthscore_dev.demo.load import SOURCE_TABLES
from healthscore_dev.demo.profiles import PROFILES

AS_OF = "2025-06-01T03:00:00Z"
AS_OF_TIME = datetime(2025, 6, 1, 3, tzinfo=UTC)
TENANTS = 80


def seed(*extra: str, tenants: int = TENANTS, seed_value: int = 7) -> int:
    return main(["seed-demo", "--tenants", str(tenants), "--seed", str(seed_value), "--as-of", AS_OF, *extra])


def table_digest(conn: DbConnection, table: str) -> str:
    """md5 of every row of `table`, in a stable order."""
    query = sql.SQL("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM {} t")
    row = conn.execute(query.format(sql.Identifier(table))).fetchone()
    assert row is not None
    return str(row["digest"])


def digests(conn: DbConnection) -> dict[str, str]:
    return {table: table_digest(conn, table) for table in SOURCE_TABLES}


def count(conn: DbConnection, query: str) -> int:
    row = conn.execute(query, {"as_of": AS_OF_TIME}).fetchone()
    assert row is not None
    return int(row["n"])


def profile_count(summary: str, profile: str) -> int:
    found = re.search(rf"[:,] {re.escape(profile)} (\d+)", summary)
    assert found, f"{profile} missing from {summary!r}"
    return int(found.group(1))


def test_same_seed_and_as_of_give_identical_tables_and_another_seed_does_not(conn: DbConnection) -> None:
    assert seed() == 0
    first = digests(conn)
    assert seed("--replace") == 0
    assert digests(conn) == first
    assert seed("--replace", seed_value=8) == 0
    other = digests(conn)
    assert other["organizations"] != first["organizations"]
    assert other["users"] != first["users"]


def test_counts_and_summary_name_every_profile(conn: DbConnection, capsys: pytest.CaptureFixture[str]) -> None:
    assert seed() == 0

    summary = capsys.readouterr().out.strip()
    assert summary.startswith(f"seeded {TENANTS} tenants in ")
    counts = {profile.name: profile_count(summary, profile.name) for profile in PROFILES}
    assert all(count >= 1 for count in counts.values()), counts
    assert sum(counts.values()) == TENANTS
    assert count(conn, "SELECT count(*) AS n FROM organizations") == TENANTS
    assert count(conn, "SELECT count(*) AS n FROM users") > TENANTS * 10


def test_fleet_has_every_kind_of_tenant_and_the_edge_data(conn: DbConnection) -> None:
    assert seed() == 0

    kinds = {
        "suspended": "SELECT count(*) AS n FROM organizations WHERE status = 'SUSPENDED'",
        "churned": "SELECT count(*) AS n FROM organizations WHERE status = 'CHURNED'",
        "untracked tickets": "SELECT count(*) AS n FROM organizations WHERE NOT tracks_support_tickets",
        "new": "SELECT count(*) AS n FROM organizations WHERE created_at > %(as_of)s - interval '30 days'",
        "no users": "SELECT count(*) AS n FROM organizations o WHERE status = 'ACTIVE'"
        " AND NOT EXISTS (SELECT 1 FROM users u WHERE u.organization_id = o.id)",
        "case without SLA": "SELECT count(*) AS n FROM cases WHERE sla_breach_at IS NULL",
        "case breaching its SLA": "SELECT count(*) AS n FROM cases WHERE closed_at > sla_breach_at",
        "open case": "SELECT count(*) AS n FROM cases WHERE closed_at IS NULL",
        "campaign without assignments": "SELECT count(*) AS n FROM campaigns WHERE total_assignments = 0",
        "campaign in progress": "SELECT count(*) AS n FROM campaigns WHERE completed_at IS NULL",
        "disabled feature": "SELECT count(*) AS n FROM organization_features WHERE NOT enabled",
        "user who never logged in": "SELECT count(*) AS n FROM users WHERE last_login_at IS NULL",
    }
    found = {kind: count(conn, query) for kind, query in kinds.items()}
    assert [kind for kind, n in found.items() if n == 0] == [], found

    keys = {row["feature_key"] for row in conn.execute("SELECT DISTINCT feature_key FROM organization_features")}
    assert {"case_management", "campaigns", "reports", "sso", "api_access"} <= keys


def test_activity_lies_between_each_tenant_creation_and_as_of(conn: DbConnection) -> None:
    assert seed() == 0

    impossible = {
        "login": "SELECT count(*) AS n FROM users u JOIN organizations o ON o.id = u.organization_id"
        " WHERE u.last_login_at NOT BETWEEN o.created_at AND %(as_of)s",
        "case": "SELECT count(*) AS n FROM cases c JOIN organizations o ON o.id = c.organization_id"
        " WHERE c.created_at NOT BETWEEN o.created_at AND %(as_of)s"
        " OR c.closed_at NOT BETWEEN c.created_at AND %(as_of)s",
        "ticket": "SELECT count(*) AS n FROM support_tickets t JOIN organizations o ON o.id = t.organization_id"
        " WHERE t.created_at NOT BETWEEN o.created_at AND %(as_of)s",
        "campaign": "SELECT count(*) AS n FROM campaigns WHERE completed_assignments > total_assignments",
        "feature": "SELECT count(*) AS n FROM organization_features WHERE is_used AND NOT enabled",
    }
    assert {kind: count(conn, query) for kind, query in impossible.items()} == dict.fromkeys(impossible, 0)


def test_scored_fleet_shows_every_risk_level(conn: DbConnection) -> None:
    assert seed() == 0

    ids = [row["id"] for row in conn.execute("SELECT id FROM organizations WHERE status = 'ACTIVE'")]
    usage = fetch_usage(conn, ids, AS_OF_TIME)
    scored = [tenant for tenant in usage.values() if tenant.inputs.total_users > 0]
    risks = {risk_level(health_score(tenant.inputs, default_profile()).overall, "STABLE") for tenant in scored}
    assert risks == {"LOW", "MEDIUM", "HIGH"}


@pytest.mark.parametrize("tenants", [1, 8, 9, 60, 10_000])
def test_profile_counts_add_up_and_include_every_profile_when_there_is_room(tenants: int) -> None:
    counts = profile_counts(tenants)
    assert sum(counts.values()) == tenants
    assert tenants < len(PROFILES) or min(counts.values()) >= 1


def test_second_seed_without_replace_is_refused_and_changes_nothing(
    conn: DbConnection, capsys: pytest.CaptureFixture[str]
) -> None:
    assert seed() == 0
    before = digests(conn)
    capsys.readouterr()

    assert seed(seed_value=8) == 1

    assert "--replace" in capsys.readouterr().err
    assert digests(conn) == before
