"""`healthscore profiles list | show | apply | preview` against a real PostgreSQL, through the CLI's entry point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from api_support import add_scored_tenants
from factories import DEFAULT_REWEIGHTED

from healthscore.dal.connection import DbConnection
from healthscore_dev.cli.main import main


def test_apply_then_list_show_and_preview(
    conn: DbConnection, events_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_scored_tenants(conn, 4)
    assert main(["profiles", "apply", str(events_dir / "profile_enterprise.json")]) == 0
    assert "saved enterprise version 1" in capsys.readouterr().out
    assert main(["profiles", "apply", str(events_dir / "profile_enterprise.json")]) == 0
    assert "saved enterprise version 2" in capsys.readouterr().out

    assert main(["profiles", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(p["profileId"], p["version"]) for p in listed["items"]] == [("default", 1), ("enterprise", 2)]
    assert main(["profiles", "show", "enterprise"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["segment"] == {"minUsers": 50}
    assert main(["profiles", "show", "nope"]) == 1
    assert "no active profile nope" in capsys.readouterr().out

    # a file written from `show` applies back (its version is the database's to number)
    shown_file = tmp_path / "shown.json"
    shown_file.write_text(json.dumps({**shown, "segment": {"maxUsers": 5}}))
    assert main(["profiles", "preview", "--json", str(shown_file)]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert preview["tenants"] == 4  # each test tenant has 5 users
    assert sum(n for to in preview["riskTransitions"].values() for n in to.values()) == 4
    assert main(["profiles", "preview", str(shown_file)]) == 0
    assert "enterprise: 4 tenant(s) would be scored by it" in capsys.readouterr().out


def test_a_bad_file_names_the_field(conn: DbConnection, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"profileId": "x", "priority": 1, "weights": {"login": 1}}))
    assert main(["profiles", "apply", str(bad)]) == 1
    assert "weights.caseResolution: Field required" in capsys.readouterr().out
    bad.write_text(json.dumps({"priority": 1, "weights": {}}))
    for command in ("apply", "preview"):
        assert main(["profiles", command, str(bad)]) == 1
        assert f"{bad}: profileId is missing: a profile file names its profile" in capsys.readouterr().out
    bad.write_text(json.dumps({"profileId": "Not A Slug", "priority": 1, "weights": {}}))
    assert main(["profiles", "preview", str(bad)]) == 1
    assert "profileId: must be a slug" in capsys.readouterr().out
    assert conn.execute("SELECT count(*) AS n FROM scoring_profiles WHERE profile_id = 'x'").fetchone() == {"n": 0}


def test_restate_goes_through_a_local_queue_and_the_scorer(
    conn: DbConnection, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command points these at its local queue: the test restores them.
    for name in ("SCORING_QUEUE_URL", "DEAD_LETTER_QUEUE_URL", "AWS_ENDPOINT_URL_SQS", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    ids = add_scored_tenants(conn, 4)  # yesterday and today
    reweighted = tmp_path / "default.json"
    reweighted.write_text(json.dumps({"profileId": "default", **DEFAULT_REWEIGHTED}))
    assert main(["profiles", "apply", str(reweighted)]) == 0
    capsys.readouterr()
    assert main(["profiles", "restate", "default", "--days", "0"]) == 1
    assert "--days must be between 1 and 400" in capsys.readouterr().out

    assert main(["profiles", "restate", "default", "--days", "2"]) == 0
    assert "default version 2: 4 of 4 tenant(s) restated" in capsys.readouterr().out
    rows = conn.execute("SELECT organization_id, profile_version FROM tenant_restated_scores").fetchall()
    assert sorted(r["organization_id"] for r in rows) == sorted(ids * 2)
    assert {r["profile_version"] for r in rows} == {2}
    assert main(["profiles", "restate", "nope", "--days", "2"]) == 1
    assert "Profile nope not found" in capsys.readouterr().out
