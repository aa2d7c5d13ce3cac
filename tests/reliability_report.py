"""What a fuzzing, fault or load run tried, for `make check-reliability`'s closing table.

A test calls `record(...)` once per case; when HEALTHSCORE_RELIABILITY_REPORT names a file,
one JSON line per call is appended to it (otherwise nothing is written). The table is
printed by tests/reliability/report.py. Import with `from reliability_report import record`.
"""

from __future__ import annotations

import json
import os

REPORT_ENV = "HEALTHSCORE_RELIABILITY_REPORT"


def record(suite: str, *, cases: int = 1, failures: int = 0, lost: int = 0, server_errors: int = 0) -> None:
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    line = {"suite": suite, "cases": cases, "failures": failures, "lost": lost, "serverErrors": server_errors}
    with open(path, "a", encoding="utf-8") as report:
        report.write(json.dumps(line) + "\n")
