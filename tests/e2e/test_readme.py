"""The README as a new user meets it: its shell blocks run, in order, in a fresh shell against a fresh
`healthscore local serve` on the database a `make run` made, and print what the README says they print.

What is left out: `make run` and `make test` themselves (the rest of the suite runs them) and blocks marked
illustrative (the AWS deploy), counted and listed. The block conventions are in tests/readme_session.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from readme_session import FENCE, Session, matches_transcript, run_session, shell_blocks

from healthscore_dev.local.serve_state import STATE_FILE, ServeState

PROJECT = Path(__file__).resolve().parents[2]
README = PROJECT / "README.md"
DEMO_TENANTS = "500"  # make run's fleet: the README's transcripts are of it
STOP_SECONDS = 30


def user_environment(local_dir: Path) -> dict[str, str]:
    """A new user's shell: the virtual environment not yet on PATH, no DATABASE_URL, no AWS settings.

    Only the local folder and local serve's port differ from a user's: a folder of the test's own, and a free
    port instead of 3000 (the README reads the URL with `healthscore local url`, whatever the port).
    """
    venv_bin = Path(sys.executable).parent
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != venv_bin)
    inherited = {name: os.environ[name] for name in ("HOME", "USER", "LANG", "TMPDIR") if name in os.environ}
    return {**inherited, "PATH": path, "HEALTHSCORE_LOCAL_DIR": str(local_dir), "HEALTHSCORE_LOCAL_PORT": "0"}


@pytest.fixture
def after_make_run(tmp_path: Path) -> Iterator[Path]:
    """A local folder as `make run` leaves it: the demo fleet seeded and scored, on the embedded PostgreSQL."""
    local_dir = tmp_path / "local"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("healthscore")), "run", "nightly", "--tenants", DEMO_TENANTS],
        env={**user_environment(local_dir), "PATH": os.environ["PATH"]},
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield local_dir
    _stop_server(local_dir)


def _stop_server(local_dir: Path) -> None:
    """Stop the `local serve` the README started in the background, as SIGTERM stops it, and wait for it.

    Its state file goes last, once the servers and the embedded PostgreSQL it started have stopped.
    """
    state_file = local_dir / STATE_FILE
    if not state_file.exists():
        return
    pid = ServeState.model_validate_json(state_file.read_text()).pid
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while state_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not state_file.exists(), "local serve did not stop on SIGTERM"


def test_every_shell_block_of_the_readme_runs_as_written(after_make_run: Path, tmp_path: Path) -> None:
    markdown = README.read_text()
    blocks = shell_blocks(markdown)
    work = tmp_path / "blocks"
    work.mkdir()

    session = run_session(blocks, PROJECT, user_environment(after_make_run), work)

    print(_describe(session))
    for run in session.runs:
        where = f"README.md line {run.block.line}"
        assert run.status == 0, f"{where} failed ({run.status}):\n{run.block.code}\nstderr:\n{run.stderr[-3000:]}"
        if run.block.expected is not None:
            assert matches_transcript(run.block.expected, run.stdout), (
                f"{where} printed\n{run.stdout}\ninstead of\n{run.block.expected}"
            )
    assert len(session.runs) == len(blocks) - len(session.left_out)  # none cut short
    assert any(run.block.expected for run in session.runs)  # transcripts compared, not only exit statuses


def test_every_shell_block_of_the_readme_is_fenced_as_sh() -> None:
    """A block fenced bash, shell or console would be neither run nor counted as left out."""
    languages = {fence.group(1).split()[0] for fence in FENCE.finditer(README.read_text()) if fence.group(1).strip()}
    assert not languages & {"bash", "shell", "console", "zsh"}, languages


def _describe(session: Session) -> str:
    left_out = ", ".join(f"line {block.line}" for block in session.left_out)
    compared = sum(run.block.expected is not None for run in session.runs)
    return (
        f"README: {len(session.runs)} shell blocks run ({compared} with their output compared); "
        f"{len(session.left_out)} illustrative ones left out ({left_out})"
    )
