"""`healthscore run nightly`'s risk table: effective risk, overrides marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import add_org, add_score

from healthscore.dal.connection import DbConnection
from healthscore.logic.overrides import NewOverride, set_override
from healthscore_dev.cli.run import print_risk_table


def test_the_risk_table_counts_and_marks_overridden_tenants(
    conn: DbConnection, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    steady = add_org(conn, name="Steady Co")
    shaky = add_org(conn, name="Shaky Co")
    add_score(conn, steady, now.date(), 90, risk_level="LOW", run_id="run-1")
    add_score(conn, shaky, now.date(), 30, risk_level="HIGH", run_id="run-1")
    sponsor_left = NewOverride("HIGH", "Sponsor left", now + timedelta(days=7))
    set_override(conn, steady, sponsor_left, set_by="csm-1", now=now, bus_name=None)

    print_risk_table(conn, "run-1")

    lines = capsys.readouterr().out.splitlines()
    high = next(line for line in lines if line.startswith("HIGH "))
    assert high.split() == ["HIGH", "2", "0", "2", "0", "1"]  # both HIGH, one by override
    assert next(line for line in lines if line.startswith("LOW ")).split()[1] == "0"
    steady_row = next(line for line in lines if line.startswith("Steady Co"))
    assert " HIGH* " in steady_row
    assert " HIGH " in next(line for line in lines if line.startswith("Shaky Co"))
    assert lines[-1].startswith("* overridden by hand")
