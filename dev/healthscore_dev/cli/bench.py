"""`healthscore bench [--tenants N]`: the service's speed side by side (healthscore_dev.bench.run)."""

from __future__ import annotations

import argparse

DEFAULT_TENANTS = 10_000


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "bench",
        help="benchmark: seed-style path, scorer, floor, API routes and cold starts, side by side",
        description="Seeds its own embedded PostgreSQL (.local/bench) unless DATABASE_URL is set, prints one "
        "table of tenants/s and ratios and writes bench/results/latest.json.",
    )
    parser.add_argument(
        "--tenants", type=int, default=DEFAULT_TENANTS, help=f"demo tenants (default {DEFAULT_TENANTS:,})"
    )
    parser.add_argument("--api-calls", type=int, default=1000, help="calls per API route (default 1,000)")
    parser.add_argument(
        "--preview-calls",
        type=int,
        default=20,
        help="calls of the what-if preview, about 0.4 s each at 10,000 tenants, 5 s at 100,000 (default 20)",
    )
    parser.add_argument("--seed-style-sample", type=int, default=1000, help="tenants the seed-style path scores")
    parser.add_argument("--cold-start-repeat", type=int, default=7, help="fresh interpreters per handler (default 7)")
    parser.add_argument("--no-batch-sizes", action="store_true", help="skip the BatchSize 10/50/100 study")
    parser.add_argument(
        "--batch-size-sample", type=int, default=20_000, help="tenants each BatchSize scores (default 20,000)"
    )
    parser.add_argument("--output", default=None, help="JSON results file (default bench/results/latest.json)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from healthscore_dev.bench.run import RESULTS_FILE, run_bench  # the bench's imports only for this command

    results = run_bench(
        args.tenants,
        seed_style_sample=args.seed_style_sample,
        api_calls=args.api_calls,
        preview_calls=args.preview_calls,
        cold_start_repeat=args.cold_start_repeat,
        batch_sizes=not args.no_batch_sizes,
        study_sample=args.batch_size_sample,
        output=args.output or str(RESULTS_FILE),
    )
    return 0 if results["floorCheck"]["mismatch_count"] == 0 and results["floorCheck"]["missing"] == 0 else 1
