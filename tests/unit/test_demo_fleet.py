"""The demo fleet is the same for a seed whenever it is generated, so the README's transcripts reproduce."""

from __future__ import annotations

from datetime import UTC, datetime

from healthscore_dev.demo.fleet import TABLES, Tenant, generate_fleet

MORNING = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
LATER = datetime(2027, 3, 1, 17, 45, 12, tzinfo=UTC)  # another season, another time of day


def relative_rows(tenant: Tenant, as_of: datetime) -> dict[str, list[tuple[object, ...]]]:
    """The tenant's source rows with every time as its distance from as-of."""
    return {
        table: [tuple(value - as_of if isinstance(value, datetime) else value for value in row) for row in rows]
        for table, rows in tenant.rows_by_table().items()
        if table != "tenant_daily_inputs"  # kept per UTC day: it depends on as-of's time of day by design
    }


def test_a_seed_gives_the_same_ids_names_and_activity_relative_to_as_of() -> None:
    morning, later = list(generate_fleet(120, 42, MORNING)), list(generate_fleet(120, 42, LATER))
    assert [t.organization[:2] for t in morning] == [t.organization[:2] for t in later]  # ids and names
    assert [relative_rows(t, MORNING) for t in morning] == [relative_rows(t, LATER) for t in later]
    assert set(relative_rows(morning[0], MORNING)) == set(TABLES) - {"tenant_daily_inputs"}


def test_another_seed_gives_another_fleet() -> None:
    assert [t.organization[0] for t in generate_fleet(20, 42, MORNING)] != [
        t.organization[0] for t in generate_fleet(20, 43, MORNING)
    ]
