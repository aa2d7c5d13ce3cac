"""`make run` ends by saying how to reach the `healthscore` command and what to do next, as the README does."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_make_run_ends_with_the_readmes_next_steps() -> None:
    make = shutil.which("make")
    assert make is not None
    planned = subprocess.run(
        [make, "--no-print-directory", "--dry-run", "run"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    nightly = next(i for i, line in enumerate(planned) if "healthscore run nightly" in line)
    ending = "\n".join(re.sub(r"^echo '(.*)'$", r"\1", line) for line in planned[nightly + 1 :])

    readme_session = (PROJECT / "README.md").read_text().split("### A session against the local API")[1]
    for step in ("source .venv/bin/activate", "healthscore local serve &", "B=$(healthscore local url)"):
        assert step in ending, ending
        assert step in readme_session
    assert "TOKEN=$(healthscore local token --role CLIENT_SUCCESS)" in ending
    assert ".venv/bin/healthscore" in ending  # without activating
