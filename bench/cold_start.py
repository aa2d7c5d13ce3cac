"""Cold start: the import time of each Lambda handler in a fresh interpreter, against boto3 and psycopg alone.

    .venv/bin/python bench/cold_start.py [--repeat 3]

Each measurement is a new `python` process that times (perf_counter) loading
`functions/<name>/app.py` with `healthscore.local.handlers.load_handler`, i.e. the
module-level work Lambda does in its INIT phase, and reports which heavy modules got
imported. Median of --repeat runs. Three environments:

- "layer": only what a Lambda has, the layer's requirements.txt (and what they need) plus
  the boto3 that the python3.12 runtime ships; the dev tools of `.venv` (awscrt, pyOpenSSL,
  ...) are hidden, since botocore imports them when present and that inflates its import.
- "layer, no .pyc": the same with no bytecode but the standard library's (a private
  PYTHONPYCACHEPREFIX): a layer shipped without .pyc, where every cold start compiles it
  (/opt is read-only). The layer built by layers/shared/Makefile ships its .pyc.
- "venv": `.venv` as it is.

and two tracing modes: "off" (POWERTOOLS_TRACE_DISABLED, as local runs and tests) and "on"
(as in Lambda with `Tracing: Active`: Powertools' Tracer patches the libraries X-Ray supports).
No database or network is touched: the handlers open connections lazily.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from benchlib import PROJECT_ROOT, print_table
from packaging.requirements import Requirement

HANDLERS = ("scorer", "fanout", "api", "authorizer")
WATCHED_MODULES = ("boto3", "botocore.client", "aws_xray_sdk", "psycopg", "pydantic")
RUNTIME_PROVIDED = ("boto3",)  # the python3.12 Lambda runtime ships boto3 (and botocore)

# Dummy configuration so that each handler's start-up checks pass; nothing is contacted.
HANDLER_ENV = {
    "DATABASE_URL": "postgresql://bench@127.0.0.1:9/bench",
    "SCORING_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/bench",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/bench-dlq",
    "FANOUT_FUNCTION_NAME": "bench-fanout",
    "JWT_ISSUER": "https://auth.example.com/",
    "JWT_AUDIENCE": "bench",
    "JWT_JWKS_URL": "https://auth.example.com/.well-known/jwks.json",
    "POWERTOOLS_SERVICE_NAME": "healthscore",
    "POWERTOOLS_METRICS_NAMESPACE": "HealthScore",
    "AWS_DEFAULT_REGION": "us-east-1",
}
TRACING_ENV = {
    "off": {"POWERTOOLS_TRACE_DISABLED": "true"},
    "on": {"LAMBDA_TASK_ROOT": str(PROJECT_ROOT), "AWS_LAMBDA_FUNCTION_NAME": "bench"},
}

# Runs in the child: hide what a Lambda would not have, then time one import.
CHILD = r"""
import json, sys, time
config = json.loads(sys.argv[1])
hidden = frozenset(config["hidden"])

class HideNonLayerModules:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in hidden:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the Lambda layer)", name=name)
        return None

if hidden:
    sys.meta_path.insert(0, HideNonLayerModules())
sys.path.insert(0, config["layer"])
started = time.perf_counter()
if config["handler"]:
    from healthscore.local.handlers import load_handler
    load_handler(config["handler"])
else:
    exec(config["code"])
elapsed = time.perf_counter() - started
print(json.dumps({"ms": elapsed * 1000, "modules": {m: m in sys.modules for m in config["watched"]}}))
"""


def distribution_closure(requirements: list[Requirement]) -> set[str]:
    """Names of the installed distributions these requirements pull in (extras and markers honoured)."""
    seen: set[str] = set()
    pending = [(req, extra) for req in requirements for extra in (req.extras or {""})]
    while pending:
        req, extra = pending.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue
        key = f"{_normal(req.name)}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for line in dist.requires or []:
            child = Requirement(line)
            wanted = set(req.extras) | {""}
            pending.extend((child, e) for e in wanted if child.marker is None or child.marker.evaluate({"extra": e}))
    return {key.split("[")[0] for key in seen}


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def top_level_names(dist: metadata.Distribution) -> set[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data", ".egg-info")) or first in ("..", "__pycache__"):
            continue
        names.add(first.split(".")[0] if "." in first else first)
    return names


def hidden_modules() -> list[str]:
    """Top-level modules of .venv that a Lambda with the shared layer would not have."""
    lines = (PROJECT_ROOT / "layers" / "shared" / "requirements.txt").read_text().splitlines()
    requirements = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    requirements += [Requirement(name) for name in RUNTIME_PROVIDED]
    allowed = distribution_closure(requirements) | {"healthscore"}
    allowed_names: set[str] = set()
    other_names: set[str] = set()
    for dist in metadata.distributions():
        names = top_level_names(dist)
        (allowed_names if _normal(dist.metadata["Name"]) in allowed else other_names).update(names)
    return sorted(other_names - allowed_names - set(sys.stdlib_module_names) - {"healthscore"})


def measure(handler: str | None, code: str, env: dict[str, str], hidden: list[str]) -> dict[str, Any]:
    config = {
        "handler": handler,
        "code": code,
        "hidden": hidden,
        "layer": str(PROJECT_ROOT / "layers" / "shared"),
        "watched": WATCHED_MODULES,
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(config)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        raise RuntimeError(f"{handler or code!r} failed:\n{result.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    answer["wall_ms"] = wall_ms
    return answer


def median_of(repeat: int, *args: Any) -> dict[str, Any]:
    runs = [measure(*args) for _ in range(repeat)]
    return {
        "ms": statistics.median(r["ms"] for r in runs),
        "wall_ms": statistics.median(r["wall_ms"] for r in runs),
        "modules": runs[0]["modules"],
    }


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "LAMBDA_"))}
    env.pop("DATABASE_URL", None)
    env.update(HANDLER_ENV)
    return env


def largest_imports(handler: str, env: dict[str, str], hidden: list[str], count: int) -> list[tuple[str, float]]:
    """The heaviest top-level imports of one handler load (`python -X importtime`), cumulative ms."""
    config = {
        "handler": handler,
        "code": "",
        "hidden": hidden,
        "layer": str(PROJECT_ROOT / "layers" / "shared"),
        "watched": [],
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CHILD, json.dumps(config)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    roots: list[tuple[str, float]] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith("  ") or not cumulative.strip().isdigit():
            continue  # nested import: counted in its root
        roots.append((name.strip(), int(cumulative) / 1000))
    return sorted(roots, key=lambda root: -root[1])[:count]


def bytecode_caches(work: Path) -> tuple[Path, Path]:
    """Two PYTHONPYCACHEPREFIX folders: bytecode of every module the handlers import, and the same
    with only the standard library's (as a layer without .pyc files would, and
    Lambda cannot write any: /opt is read-only, so each cold start compiles the layer from source).
    """
    warm, cold = work / "all", work / "stdlib-only"
    env = base_env() | {"PYTHONPYCACHEPREFIX": str(warm)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for tracing in TRACING_ENV.values():
        for handler in HANDLERS:
            measure(handler, "", env | tracing, [])
    measure(None, "import boto3, psycopg", env, [])
    shutil.copytree(warm, cold)
    for tree in {*site.getsitepackages(), str(PROJECT_ROOT)}:
        shutil.rmtree(cold / tree.lstrip(os.sep), ignore_errors=True)
    return warm, cold


def main() -> None:
    import argparse

    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown (default 3)")
    options = args.parse_args()
    hidden = hidden_modules()
    print(f"layer environment: {len(hidden)} top-level modules of .venv hidden (e.g. {', '.join(hidden[:6])}, ...)")
    with tempfile.TemporaryDirectory(prefix="healthscore-bench-") as work:
        warm, cold = bytecode_caches(Path(work))
        settings = {  # name -> (hidden modules, bytecode cache)
            "layer": (hidden, warm),
            "no .pyc": (hidden, cold),
            "venv": ([], warm),
        }
        baselines = {
            "python, nothing imported": "pass",
            "import psycopg": "import psycopg",
            "import boto3": "import boto3",
            "Powertools Tracer()": "from aws_lambda_powertools import Tracer; Tracer()",
        }
        plan: list[tuple[str, str | None, str, str]] = []  # (label, handler, code, tracing)
        plan += [(what, None, code, "-") for what, code in baselines.items() if "Tracer" not in what]
        plan += [("Powertools Tracer()", None, baselines["Powertools Tracer()"], t) for t in ("off", "on")]
        plan += [(f"handler {h}", h, "", t) for h in HANDLERS for t in ("off", "on")]
        results: dict[tuple[str, str, str], dict[str, Any]] = {}
        for label, handler, code, tracing in plan:
            for name, (env_hidden, cache) in settings.items():
                if name == "no .pyc" and tracing == "off":
                    continue  # shown for the Lambda-like case only
                env = base_env() | TRACING_ENV["off" if tracing == "-" else tracing]
                env |= {"PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}
                results[(label, tracing, name)] = median_of(options.repeat, handler, code, env, env_hidden)
        heaviest = largest_imports(
            "scorer",
            base_env() | TRACING_ENV["on"] | {"PYTHONPYCACHEPREFIX": str(warm), "PYTHONDONTWRITEBYTECODE": "1"},
            hidden,
            6,
        )

    boto3_ms = results[("import boto3", "-", "layer")]["ms"]
    rows: list[list[object]] = []
    for label, _, _, tracing in plan:
        layer = results[(label, tracing, "layer")]
        no_pyc = results.get((label, tracing, "no .pyc"))
        modules = layer["modules"]
        rows.append(
            [
                label,
                tracing,
                layer["ms"],
                f"{layer['ms'] / boto3_ms:.2f}x",
                layer["wall_ms"],
                no_pyc["ms"] if no_pyc else "-",
                results[(label, tracing, "venv")]["ms"],
                "yes" if modules["boto3"] else "no",
                "yes" if modules["botocore.client"] else "no",
                "yes" if modules["aws_xray_sdk"] else "no",
            ]
        )
    print_table(
        f"cold start: import time in a fresh interpreter, median of {options.repeat} (ms)",
        [
            "what",
            "tracing",
            "layer",
            "vs boto3",
            "process",
            "layer, no .pyc",
            "venv",
            "boto3 imported",
            "botocore.client",
            "aws_xray_sdk",
        ],
        rows,
    )
    print(
        "layer: only the layer's requirements and the runtime's boto3; no .pyc: the same, compiled from source as\n"
        "the layer of `sam build` is in Lambda; venv: .venv as it is; process: the whole child process (layer);\n"
        'tracing "on" is Lambda with Tracing: Active, "off" is POWERTOOLS_TRACE_DISABLED (local runs, tests)'
    )
    print_table(
        "scorer, tracing on, layer: heaviest top-level imports (python -X importtime, cumulative ms)",
        ["module", "ms"],
        [[name, ms] for name, ms in heaviest],
    )


if __name__ == "__main__":
    main()
