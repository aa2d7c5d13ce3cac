"""Pydantic's plugin discovery skipped where PYDANTIC_DISABLE_PLUGINS turns every plugin off.

The first model pydantic builds imports `pydantic.plugin._loader`, which imports
`importlib.metadata` at its top (email, zipfile, csv...) even though `get_plugins()` then
returns no plugin because the variable says so: 30 ms of the authorizer's cold start, whose
other imports never need `importlib.metadata` (psycopg does, so the other handlers pay it anyway).
With plugins disabled, a loader whose `get_plugins()` returns nothing is exactly what pydantic
does, minus that import. template.yaml's Globals set the variable; elsewhere nothing changes.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

# Nothing from typing here: this runs when healthscore is first imported, and should cost nothing.
LOADER = "pydantic.plugin._loader"
# The values for which pydantic's own get_plugins() returns no plugin at all.
ALL_DISABLED = frozenset({"__all__", "1", "true"})


def _no_plugins() -> tuple[()]:
    return ()


def skip_plugin_discovery() -> bool:
    """Stand in for pydantic's plugin loader when all plugins are disabled; True when it did."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in ALL_DISABLED or LOADER in sys.modules:
        return False
    loader = ModuleType(LOADER, "pydantic's plugin loader, all plugins disabled (healthscore.pydantic_plugins)")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[LOADER] = loader
    return True
