"""The scale curve of docs/performance.md from the runs of `make bench TENANTS=N` (bench/results/tenants-N.json).

.venv/bin/python bench/curve.py        (prints a Markdown table)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
NOT_MEASURED = "not measured"


def routes(run: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [route for route in run["api"] if route["name"].startswith(prefix)]


def worst_p99(run: dict[str, Any], prefix: str) -> str:
    """The slowest p99 of the routes named `prefix...` (every list page), with how many there were."""
    measured = routes(run, prefix)
    if not measured:
        return NOT_MEASURED
    worst = max(route["p99_ms"] for route in measured)
    return f"{worst:,.1f}" + (f" (worst of {len(measured)})" if len(measured) > 1 else "")


def p50(run: dict[str, Any], prefix: str) -> str:
    measured = routes(run, prefix)
    return f"{measured[0]['p50_ms']:,.0f}" if measured else NOT_MEASURED


def main() -> None:
    runs = sorted(
        (json.loads(path.read_text()) for path in RESULTS.glob("tenants-*.json")), key=lambda run: run["tenants"]
    )
    print(
        "| ACTIVE tenants | nightly scoring (s) | scorer tenants/s | list page p99 (ms) | summary p99 (ms) |"
        " preview p50 (ms) | database (MB) | load average |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(
            f"| {run['tenants']:,} | {run['nightlyScoringSeconds']:,.1f} |"
            f" {run['tenants'] / run['nightlyScoringSeconds']:,.0f} | {worst_p99(run, 'GET /scores?')} |"
            f" {worst_p99(run, 'GET /summary')} | {p50(run, 'POST /profiles/')} |"
            f" {run['database']['sizeMb']:,.0f} | {run['machine']['load1']:.1f} |"
        )


if __name__ == "__main__":
    main()
