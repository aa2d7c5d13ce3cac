"""`.local/serve.json`: how `healthscore local url` and the `dlq` commands find a running `local serve`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from healthscore_dev.cli.main import main
from healthscore_dev.local.serve_state import ServeState, remove_state, running_state, state_path, write_state


@pytest.fixture(autouse=True)
def local_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HEALTHSCORE_LOCAL_DIR", str(tmp_path))
    return tmp_path


def state(pid: int) -> ServeState:
    return ServeState(
        pid=pid,
        api_url="http://127.0.0.1:41000/api/v1/internal/client-health",
        portal_url="http://127.0.0.1:41001/#api=http://127.0.0.1:41000/api/v1/internal/client-health",
        sqs_endpoint="http://127.0.0.1:42000",
        scoring_queue_url="http://127.0.0.1:42000/123456789012/healthscore-scoring",
        dead_letter_queue_url="http://127.0.0.1:42000/123456789012/healthscore-scoring-dlq",
    )


def a_finished_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_running_server_is_found_and_its_url_printed(local_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_state(state(os.getpid()))
    assert state_path() == local_dir / "serve.json"
    assert running_state() == state(os.getpid())
    assert main(["local", "url", "--wait", "0"]) == 0
    assert capsys.readouterr().out == "http://127.0.0.1:41000/api/v1/internal/client-health\n"


def test_a_killed_server_or_none_is_not_found_and_url_says_how_to_start_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert running_state() is None
    write_state(state(a_finished_pid()))  # left behind by a server killed outright
    assert running_state() is None
    assert main(["local", "url", "--wait", "0.3"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no `healthscore local serve` is running from this folder" in captured.err
    assert "healthscore local serve &" in captured.err


def test_a_server_removes_only_its_own_state() -> None:
    write_state(state(os.getpid()))
    remove_state(os.getpid() + 1)  # another server of the folder stopping
    assert running_state() is not None
    remove_state(os.getpid())
    assert not state_path().exists()


@pytest.mark.parametrize("port", ["abc", "70000", "-1"])
def test_a_bad_default_port_is_named_before_anything_starts(local_dir: Path, port: str) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "healthscore_dev.cli.main", "local", "serve"],
        env={**os.environ, "HEALTHSCORE_LOCAL_DIR": str(local_dir), "HEALTHSCORE_LOCAL_PORT": port},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr == (
        f"healthscore: HEALTHSCORE_LOCAL_PORT must be a port number (0-65535; 0: any free port), got {port!r}\n"
    )
    assert not (local_dir / "pgdata").exists()  # no database started
