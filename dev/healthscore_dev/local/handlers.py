"""Load a Lambda handler (`functions/<name>/app.py`) the way Lambda does: by file, not by package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

# dev/healthscore_dev/local/ -> the project root holding functions/
FUNCTIONS_DIR = Path(__file__).resolve().parents[3] / "functions"


def load_handler(name: str, environment: int = 0) -> ModuleType:
    """Import functions/<name>/app.py as module `<name>_app_<environment>`, once.

    Each `environment` gets its own module, with its own globals (batch processor,
    clients), as each Lambda execution environment does.
    """
    module_name = f"{name}_app_{environment}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = FUNCTIONS_DIR / name / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no Lambda handler at functions/{name}/app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
