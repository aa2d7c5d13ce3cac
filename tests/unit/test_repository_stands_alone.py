"""The repository stands alone: nothing in it points at a design document outside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Applied migrations are checksummed (dal/migrate.py): their comments cannot change any more.
OUTSIDE_DOCUMENT = "DESIGN" + ".md"  # spelled apart so that this file does not match itself
IMMUTABLE = {f"layers/shared/healthscore/dal/migrations/000{n}_" for n in range(1, 6)}


def test_no_file_refers_to_a_design_document_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = [
        path
        for path in tracked
        if not any(path.startswith(prefix) for prefix in IMMUTABLE)
        and (ROOT / path).is_file()
        and OUTSIDE_DOCUMENT in (ROOT / path).read_text(errors="ignore")
    ]
    assert outside == [], "the score's definition is docs/scoring.md"
    assert (ROOT / "docs/scoring.md").is_file()
