"""The scorer handler's cost per batch on this tree against an earlier revision's, alternately, in one sitting.

    .venv/bin/python bench/scorer_ab.py BASE_REVISION [--batch-size 50] [--rounds 8] [--tenants 10000]

How "within 10% of before" is decided: timings on a shared machine drift by more than that
from one run to the next, so one run each is no answer. The base revision is checked out
(detached) under .local/ab/, and each side measures in turn, `--rounds` times, in a fresh
process with its own code: `--reps` passes of the scorer handler in one execution environment
over the same first `--sample` tenants, in batches of `--batch-size` (as `make bench`'s per-batch
row). Each tree scores on its own bench database (`.local/bench` of that tree: the schemas may
differ), seeded alike; with DATABASE_URL set, both on that one (same schema only). One warm-up
pass each, untimed, writes today's rows first, so every timed pass replaces rows. Prints every
pass and the medians, and the ratio of this tree's to the base's.
The base must have the development package (healthscore_dev.bench) with `run_scorer`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AB_DIR = PROJECT_ROOT / ".local" / "ab"

# Run in each tree with that tree's packages first on the path (so its own code scores).
MEASURE = """
import json, sys
from healthscore_dev.bench.database import active_ids, batches_of, bench_as_of, bench_database, quiet_powertools
from healthscore_dev.bench.scorer_run import run_scorer

quiet_powertools()
size, sample, reps, tenants = map(int, sys.argv[1:5])
as_of = bench_as_of()
conn, _ = bench_database(tenants, as_of)
batches = batches_of(active_ids(conn)[:sample], size)
conn.close()
passes = [run_scorer(batches, as_of, 1, size) for _ in range(reps)]
print(json.dumps([p.wall_seconds / (p.tenants / size) * 1000 for p in passes]))
"""


def checkout(revision: str, worktrees: Path) -> Path:
    """The base revision's tree under `worktrees` (reused when already there)."""
    commit = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if commit.returncode != 0:
        raise SystemExit(f"not a revision of this repository: {revision}")
    sha = commit.stdout.strip()
    tree = worktrees / sha[:12]
    if not tree.exists():
        worktrees.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(PROJECT_ROOT), "worktree", "add", "--detach", str(tree), sha], check=True)
    return tree


def measure(tree: Path, args: argparse.Namespace, reps: int) -> list[float]:
    """Milliseconds a batch, one per pass, of the scorer handler of `tree`, in a fresh process."""
    env = os.environ | {"PYTHONPATH": f"{tree / 'layers' / 'shared'}{os.pathsep}{tree / 'dev'}"}
    argv = [str(args.batch_size), str(args.sample), str(reps), str(args.tenants)]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the scorer of {tree} could not be measured:\n{done.stderr[-2000:]}")
    ms: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the revision to compare with (a commit, tag or branch)")
    parser.add_argument("--batch-size", type=int, default=50, help="tenants a batch (default 50, the template's)")
    parser.add_argument("--rounds", type=int, default=8, help="turns each side takes (default 8)")
    parser.add_argument("--reps", type=int, default=3, help="passes a turn (default 3)")
    parser.add_argument("--sample", type=int, default=2000, help="tenants a pass (default 2,000)")
    parser.add_argument("--tenants", type=int, default=10_000, help="bench database fleet (default 10,000)")
    parser.add_argument("--worktrees", type=Path, default=AB_DIR, help="where the base is checked out (.local/ab)")
    args = parser.parse_args()

    sides = {"base": checkout(args.base, args.worktrees), "this tree": PROJECT_ROOT}
    for name, tree in sides.items():  # seeds the side's bench database if need be; writes today's rows
        print(f"{name} ({tree}): warm-up pass ...", flush=True)
        measure(tree, args, 1)
    passes: dict[str, list[float]] = {name: [] for name in sides}
    for turn in range(args.rounds):
        order = list(sides) if turn % 2 == 0 else list(reversed(sides))  # neither always goes first
        for name in order:
            ms = measure(sides[name], args, args.reps)
            passes[name] += ms
            print(f"round {turn + 1}: {name:9} {' '.join(f'{m:6.2f}' for m in ms)} ms a batch", flush=True)
    base, this = (statistics.median(passes[name]) for name in sides)
    print(f"\nper batch of {args.batch_size}, median of {len(passes['base'])} passes (load {os.getloadavg()[0]:.1f}):")
    print(f"base {args.base}: {base:.2f} ms   this tree: {this:.2f} ms   this / base: {this / base:.3f}")


if __name__ == "__main__":
    main()
