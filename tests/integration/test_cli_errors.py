"""The `healthscore` command names what is wrong instead of printing a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthscore.config import get_settings
from healthscore_dev.cli.main import main


@pytest.fixture(autouse=True)
def fresh_settings() -> None:
    get_settings.cache_clear()


def test_an_unparsable_database_url_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres at the usual place")
    assert main(["db", "migrate"]) == 2
    assert "DATABASE_URL: Value error, not a PostgreSQL connection URL" in capsys.readouterr().err


def test_an_unreachable_database_is_a_clear_error_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://scorer:s3cret-pw@127.0.0.1:1/healthscore?connect_timeout=2")
    assert main(["db", "migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("healthscore: cannot reach the database: connection failed")
    assert "s3cret-pw" not in err


def test_dlq_commands_need_the_queue_url_or_a_running_local_serve(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)
    monkeypatch.setenv("HEALTHSCORE_LOCAL_DIR", str(tmp_path))  # no local serve runs from it
    assert main(["dlq", "list"]) == 2
    err = capsys.readouterr().err
    assert "DEAD_LETTER_QUEUE_URL must be set" in err
    assert "or a `healthscore local serve` be running from this folder" in err


def test_replay_refuses_a_max_below_one(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dlq", "replay", "--max", "0"]) == 2
    assert "--max must be at least 1" in capsys.readouterr().err
