"""Load: locust against `healthscore local serve` over a fleet of scored tenants (`make load`).

Seeds (once, kept in .local/load unless DATABASE_URL is set) a demo fleet scored on two days,
starts the server as a process, mints a CLIENT_SUCCESS token, then runs locust headless:
--users clients for --seconds over the read routes. Prints requests, failures, throughput
and p50/p99 per route; exits 1 if any request failed. Not part of `make test` (speed is measured
here, never asserted in tests).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "layers" / "shared"), str(ROOT / "dev")]

from local_serve import local_serve, mint, serve_environment  # noqa: E402
from reliability_report import record  # noqa: E402
from scored_fleet import seed_scored_fleet  # noqa: E402

from healthscore.dal.connection import connect  # noqa: E402
from healthscore.dal.migrate import migrate  # noqa: E402
from healthscore_dev.demo.load import organization_count  # noqa: E402
from healthscore_dev.local.embedded_db import LOCAL_DIR_ENV, use_local_database  # noqa: E402

LOAD_DIR = ROOT / ".local" / "load"


def prepare(tenants: int) -> tuple[str, list[str]]:
    """The database URL and the ids of its scored tenants (seeded and scored when empty)."""
    os.environ.setdefault(LOCAL_DIR_ENV, str(LOAD_DIR))
    url = use_local_database()
    with connect(url) as conn:
        migrate(conn)
        if organization_count(conn) == 0:
            started = datetime.now(UTC)
            seed_scored_fleet(conn, tenants, datetime.now(UTC))
            print(f"seeded and scored {tenants:,} tenants in {(datetime.now(UTC) - started).total_seconds():.0f} s")
        rows = conn.execute("SELECT DISTINCT organization_id::text AS id FROM tenant_health_scores").fetchall()
    return url, [row["id"] for row in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=11_000, help="seeded (about 9 in 10 are scored)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    url, ids = prepare(args.tenants)
    print(f"{len(ids):,} scored tenants")
    out = Path(os.environ[LOCAL_DIR_ENV])
    (out / "ids.txt").write_text("\n".join(ids))
    environment = serve_environment(url, out)
    openapi = json.loads((ROOT / "openapi.json").read_text())
    with local_serve(environment, out / "serve.log") as base_url:
        origin = base_url.split("/api/", 1)[0]
        load_env = {
            **environment,
            "HEALTHSCORE_LOAD_TOKEN": mint("CLIENT_SUCCESS", environment),
            "HEALTHSCORE_LOAD_IDS": str(out / "ids.txt"),
            "HEALTHSCORE_LOAD_SUMMARY": str(int(any(p.endswith("/summary") for p in openapi["paths"]))),
        }
        command = [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")), "--headless"]
        command += ["-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s", "--host", origin]
        command += ["--csv", str(out / "locust"), "--only-summary", "--loglevel", "WARNING"]
        subprocess.run(command, env=load_env, check=False)
    return report(out / "locust_stats.csv", args)


def report(stats_csv: Path, args: argparse.Namespace) -> int:
    rows = list(csv.DictReader(stats_csv.open()))
    print(f"\nload: {args.users} clients for {args.seconds} s, {args.tenants:,} tenants seeded (local serve, 2 cores)")
    print(f"{'route':<40} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        print(
            f"{name:<40} {int(row['Request Count']):>9,} {int(row['Failure Count']):>9,}"
            f" {float(row['Requests/s']):>8.1f} {row['50%']:>7} {row['99%']:>7}"
        )
    total = next(row for row in rows if row["Name"] == "Aggregated")
    failures = int(total["Failure Count"])
    record("load (locust)", cases=int(total["Request Count"]), failures=failures)
    return 1 if failures or int(total["Request Count"]) == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
