"""healthscore.pydantic_plugins: with every plugin disabled, pydantic works without its plugin discovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# A fresh interpreter: the stand-in acts only before pydantic's loader is first imported.
PROBE = """
import json, sys
from healthscore.config import load_settings
settings = load_settings()
print(json.dumps({
    "weights": str(settings.health_weights.login),
    "loader": sys.modules["pydantic.plugin._loader"].__doc__ or "",
    "metadata": "importlib.metadata" in sys.modules,
}))
"""


def probe(disable_plugins: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYDANTIC_DISABLE_PLUGINS", "DATABASE_URL")}
    if disable_plugins is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = disable_plugins
    env["HEALTH_WEIGHTS"] = json.dumps(
        {"login": 0.4, "caseResolution": 0.2, "campaignCompletion": 0.2, "featureAdoption": 0.1, "supportTickets": 0.1}
    )
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


@pytest.mark.parametrize("value", ["__all__", "1", "true"])
def test_models_validate_without_plugin_discovery_when_all_plugins_are_disabled(value: str) -> None:
    answer = probe(value)
    assert answer["weights"] == "0.4"  # a model built and validated the environment
    assert "all plugins disabled" in str(answer["loader"])
    assert answer["metadata"] is False  # what the stand-in saves: no importlib.metadata


def test_pydantic_loads_its_plugins_as_usual_otherwise() -> None:
    answer = probe(None)
    assert answer["weights"] == "0.4"
    assert "all plugins disabled" not in str(answer["loader"])
