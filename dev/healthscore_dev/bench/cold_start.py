"""Cold start: the import time of each Lambda handler in a fresh interpreter, as Lambda's INIT runs it.

Each measurement is a new `python` process that times (perf_counter) loading
`functions/<name>/app.py` with `healthscore_dev.local.handlers.load_handler`: the module-level
work of INIT. The median of `repeat` processes is reported. The child sees only what a Lambda
has: the layer's requirements (and what they need) plus the boto3 that the python3.12 runtime
ships; the dev tools of `.venv` (awscrt, pyOpenSSL, ...) are hidden, since botocore imports
them when present. Bytecode is compiled first into a private PYTHONPYCACHEPREFIX, as the layer
ships its .pyc (layers/shared/Makefile). The environment is Lambda's as deployed
(`AWS_LAMBDA_FUNCTION_NAME`, `LAMBDA_TASK_ROOT`, `Tracing: Active`), and, for the cost of the
X-Ray SDK, the same with `POWERTOOLS_TRACE_DISABLED=false` (SDK subsegments opted in).
No database or network is touched: the handlers open connections lazily.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from healthscore_dev.local.handlers import FUNCTIONS_DIR

PROJECT_ROOT = FUNCTIONS_DIR.parent
LAYER_DIR = PROJECT_ROOT / "layers" / "shared"
HANDLERS = ("api", "scorer", "fanout", "authorizer", "migrate")
RUNTIME_PROVIDED = ("boto3",)  # the python3.12 Lambda runtime ships boto3 (and botocore)
WATCHED_MODULES = ("boto3", "botocore", "aws_xray_sdk", "psycopg", "pydantic_settings", "jwt", "importlib.metadata")

# Dummy configuration so that each handler's start-up checks pass; nothing is contacted.
CONFIG_VALUES = {
    "DATABASE_URL": "postgresql://bench@127.0.0.1:9/bench",
    "SCORING_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/bench",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/bench-dlq",
    "FANOUT_FUNCTION_NAME": "bench-fanout",
    "JWT_ISSUER": "https://auth.example.com/",
    "JWT_AUDIENCE": "bench",
    "JWT_JWKS_URL": "https://auth.example.com/.well-known/jwks.json",
}
# What template.yaml gives each function: the authorizer, for one, has no DATABASE_URL.
HANDLER_VARIABLES = {
    "api": ("DATABASE_URL", "SCORING_QUEUE_URL", "FANOUT_FUNCTION_NAME"),
    "scorer": ("DATABASE_URL", "DEAD_LETTER_QUEUE_URL"),
    "fanout": ("DATABASE_URL", "SCORING_QUEUE_URL"),
    "authorizer": ("JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL"),
    "migrate": ("DATABASE_URL",),
}
LAMBDA_ENV = {  # as template.yaml's Globals set it, and Lambda
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
    "POWERTOOLS_SERVICE_NAME": "healthscore",
    "POWERTOOLS_METRICS_NAMESPACE": "HealthScore",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "LAMBDA_TASK_ROOT": str(PROJECT_ROOT),
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
}
TRACING_ENV = {
    "as deployed": {},
    "X-Ray SDK on": {"POWERTOOLS_TRACE_DISABLED": "false"},
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
from healthscore_dev.local.handlers import load_handler  # the loader (pathlib, importlib.util) is not timed
started = time.perf_counter()
load_handler(config["handler"])
elapsed = time.perf_counter() - started
print(json.dumps({"ms": elapsed * 1000, "modules": [m for m in config["watched"] if m in sys.modules]}))
"""


@dataclass(frozen=True)
class ColdStart:
    handler: str
    tracing: str
    median_ms: float
    runs_ms: list[float]
    modules: list[str]  # the heavy modules (WATCHED_MODULES) that INIT imported
    top_imports: list[tuple[str, float]]  # top-level imports by cumulative ms (python -X importtime)


def measure_cold_starts(
    repeat: int = 7, top: int = 5, tracing: tuple[str, ...] = tuple(TRACING_ENV)
) -> list[ColdStart]:
    hidden = hidden_modules()
    with tempfile.TemporaryDirectory(prefix="healthscore-bench-pyc-") as cache:
        results = []
        for mode in tracing:
            for handler in HANDLERS:
                env = _child_env(handler, mode, Path(cache))
                _run_child(handler, env, hidden)  # first run writes the bytecode
                runs = [_run_child(handler, env, hidden) for _ in range(repeat)]
                results.append(
                    ColdStart(
                        handler,
                        mode,
                        statistics.median(float(r["ms"]) for r in runs),
                        [round(float(r["ms"]), 1) for r in runs],
                        list(runs[0]["modules"]),
                        largest_imports(handler, env, hidden, top),
                    )
                )
        return results


def _child_env(handler: str, tracing: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VALUES and not k.startswith(_LAMBDA_PREFIXES)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env |= {name: CONFIG_VALUES[name] for name in HANDLER_VARIABLES[handler]}
    return env | LAMBDA_ENV | TRACING_ENV[tracing] | {"PYTHONPYCACHEPREFIX": str(cache)}


_LAMBDA_PREFIXES = ("POWERTOOLS_", "AWS_", "LAMBDA_", "DB_", "JWT_", "PYDANTIC_")


def _config(handler: str, hidden: list[str]) -> str:
    return json.dumps({"handler": handler, "hidden": hidden, "layer": str(LAYER_DIR), "watched": WATCHED_MODULES})


def _run_child(handler: str, env: dict[str, str], hidden: list[str]) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - our own interpreter on our own code
        [sys.executable, "-c", CHILD, _config(handler, hidden)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing the {handler} handler failed:\n{result.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def largest_imports(handler: str, env: dict[str, str], hidden: list[str], count: int) -> list[tuple[str, float]]:
    """The heaviest packages of one handler load (`python -X importtime`), cumulative ms."""
    result = subprocess.run(  # noqa: S603 - our own interpreter on our own code
        [sys.executable, "-X", "importtime", "-c", CHILD, _config(handler, hidden)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    # Per top-level package, its largest cumulative entry at whatever depth it was first imported
    # (inside healthscore's modules, mostly): what each library costs this handler.
    packages: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        package = name.strip().split(".")[0]
        if not cumulative.strip().isdigit() or package in ("healthscore", "encodings", "site"):
            continue
        packages[package] = max(packages.get(package, 0.0), int(cumulative) / 1000)
    return sorted(packages.items(), key=lambda item: -item[1])[:count]


# ----------------------------------------------------------------------------- what a Lambda has
def hidden_modules() -> list[str]:
    """Top-level modules of this environment that a Lambda with the shared layer would not have."""
    lines = (LAYER_DIR / "requirements.txt").read_text().splitlines()
    requirements = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    requirements += [Requirement(name) for name in RUNTIME_PROVIDED]
    allowed = _distribution_closure(requirements) | {"healthscore"}
    allowed_names: set[str] = set()
    other_names: set[str] = set()
    for dist in metadata.distributions():
        names = _top_level_names(dist)
        (allowed_names if _normal(dist.metadata["Name"]) in allowed else other_names).update(names)
    return sorted(other_names - allowed_names - set(sys.stdlib_module_names) - {"healthscore"})


def _distribution_closure(requirements: list[Requirement]) -> set[str]:
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


def _top_level_names(dist: metadata.Distribution) -> set[str]:
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
