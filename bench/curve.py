"""The scale curve of docs/performance.md from the runs of `make bench TENANTS=N` (bench/results/tenants-N.json).

.venv/bin/python bench/curve.py        (prints a Markdown table)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def p99(run: dict[str, Any], prefix: str) -> str:
    route = next((r for r in run["api"] if r["name"].startswith(prefix)), None)
    return f"{route['p99_ms']:,.1f}" if route else "not on this branch"


def main() -> None:
    runs = sorted(
        (json.loads(path.read_text()) for path in RESULTS.glob("tenants-*.json")), key=lambda run: run["tenants"]
    )
    print(
        "| ACTIVE tenants | nightly scoring (s) | scorer tenants/s | list page p99 (ms) | summary p99 (ms) |"
        " database (MB) | load average |"
    )
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        print(
            f"| {run['tenants']:,} | {run['nightlyScoringSeconds']:,.1f} |"
            f" {run['tenants'] / run['nightlyScoringSeconds']:,.0f} | {p99(run, 'GET /scores?')} |"
            f" {p99(run, 'GET /summary')} | {run['database']['sizeMb']:,.0f} | {run['machine']['load1']:.1f} |"
        )


if __name__ == "__main__":
    main()
