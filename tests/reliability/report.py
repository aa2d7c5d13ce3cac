"""The closing table of `make check-reliability`: what each suite tried and what went wrong.

Reads the JSON lines the tests and the load run appended (tests/reliability_report.py) and
pytest's JUnit XML of the run; prints one row per suite, then the pytest totals. Exits 1
when a test failed, a 5xx was seen or a message was lost.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

COLUMNS = ("cases", "failures", "serverErrors", "lost")


def main(report_path: str, junit_path: str) -> int:
    suites: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    report = Path(report_path)
    for line in report.read_text().splitlines() if report.exists() else []:
        entry = json.loads(line)
        for column in COLUMNS:
            suites[entry["suite"]][column] += int(entry.get(column, 0))
    if Path(junit_path).exists():  # each test of the run is a case; a failed or erroring one a failure
        for suite in ET.parse(junit_path).getroot().iter("testsuite"):
            suites["pytest tests"]["cases"] += int(suite.get("tests", 0))
            suites["pytest tests"]["failures"] += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    print(f"\n{'suite':<22} {'cases tried':>12} {'failures':>9} {'5xx':>6} {'messages lost':>14}")
    total = {column: sum(row[column] for row in suites.values()) for column in COLUMNS}
    for name, row in [*sorted(suites.items()), ("total", total)]:
        print(f"{name:<22} {row['cases']:>12,} {row['failures']:>9,} {row['serverErrors']:>6,} {row['lost']:>14,}")
    return 1 if total["failures"] or total["serverErrors"] or total["lost"] else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
