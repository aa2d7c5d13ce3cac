"""The layer as `sam build` builds it ships exactly what the tests ran, and no development code.

The layer is built by its own Makefile target (template.yaml: `BuildMethod: makefile`), as SAM
runs it: `make build-SharedLayer` with ARTIFACTS_DIR, from PyPI's aarch64 wheels (pip's cache
keeps a rebuild to seconds). Then every distribution it ships is compared with the one the
tests import.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"
# The development package's folders, as the runtime package's subpackages (where they were) or on their own.
DEV_CODE = ("healthscore_dev", "healthscore/local", "healthscore/cli", "healthscore/demo", "healthscore/bench")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a lock or constraints file, by canonical name."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", path.read_text(), flags=re.MULTILINE)
    return {canonical(name): version for name, version in found}


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("SharedLayer")
    environment = os.environ | {"ALLOW_NO_RDS_CA_BUNDLE": "1"}
    build = subprocess.run(
        ["make", "--no-print-directory", "build-SharedLayer", f"ARTIFACTS_DIR={artifacts}", f"PYTHON={sys.executable}"],
        cwd=LAYER,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    return artifacts / "python"


def shipped_distributions(site: Path) -> dict[str, str]:
    return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions(path=[str(site)])}


def test_every_shipped_distribution_is_the_version_the_tests_ran(built_layer: Path) -> None:
    shipped = shipped_distributions(built_layer)
    assert {"boto3", "botocore", "psycopg", "pydantic", "cryptography", "jmespath"} <= shipped.keys()
    tested = {name: metadata.version(name) for name in shipped}
    assert shipped == tested


def test_the_layer_ships_the_lock_and_nothing_else(built_layer: Path) -> None:
    lock = pins(LAYER / "requirements.lock")
    assert shipped_distributions(built_layer) == lock
    constraints = pins(ROOT / "constraints.txt")
    assert {name: constraints.get(name) for name in lock} == lock  # one resolution: the tests' versions


def test_the_layer_holds_no_development_code(built_layer: Path) -> None:
    assert (built_layer / "healthscore" / "dal" / "migrations" / "0001_source_tables.sql").is_file()
    assert not [path for path in DEV_CODE if (built_layer / path).exists()]
    development_only = pins(ROOT / "constraints.txt").keys() - pins(LAYER / "requirements.lock").keys()
    assert {"moto", "pgserver", "pytest", "hypothesis", "aws-sam-cli"} <= development_only
    assert not development_only & shipped_distributions(built_layer).keys()
    shipped_sources = "\n".join(path.read_text() for path in (built_layer / "healthscore").rglob("*.py"))
    assert "healthscore_dev" not in shipped_sources
    assert "import moto" not in shipped_sources
