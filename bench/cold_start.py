"""Cold start of each handler, as deployed and with the X-Ray SDK opted in: what tracing costs.

    .venv/bin/python bench/cold_start.py [--repeat 7]

The measurement is healthscore_dev.bench.cold_start's (the one `healthscore bench` runs): the
median import of functions/<name>/app.py over fresh interpreters, with bytecode, seeing only
the layer's requirements and the runtime's boto3. "as deployed": template.yaml's environment
(Lambda's active tracing, no SDK in the function); "X-Ray SDK on": POWERTOOLS_TRACE_DISABLED=false,
Powertools' Tracer with aws_xray_sdk patching botocore (see healthscore/tracing.py).
"""

from __future__ import annotations

import argparse

import benchlib  # noqa: F401 - puts the layer on sys.path, as Lambda mounts it

from healthscore_dev.bench.cold_start import TRACING_ENV, measure_cold_starts
from healthscore_dev.bench.report import print_table, ratio


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=7, help="fresh interpreters per measurement (default 7)")
    options = args.parse_args()
    results = measure_cold_starts(repeat=options.repeat)
    by_key = {(r.handler, r.tracing): r for r in results}
    deployed, sdk = TRACING_ENV
    print_table(
        f"cold start: handler import, median of {options.repeat} fresh interpreters with bytecode (ms)",
        ["handler", deployed, sdk, "SDK costs", "imported as deployed", "heaviest packages as deployed (ms)"],
        [
            [
                handler,
                by_key[(handler, deployed)].median_ms,
                by_key[(handler, sdk)].median_ms,
                ratio(by_key[(handler, sdk)].median_ms, by_key[(handler, deployed)].median_ms),
                ", ".join(by_key[(handler, deployed)].modules),
                ", ".join(f"{m} {ms:.0f}" for m, ms in by_key[(handler, deployed)].top_imports),
            ]
            for handler in dict.fromkeys(r.handler for r in results)
        ],
    )


if __name__ == "__main__":
    main()
