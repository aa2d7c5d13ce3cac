"""Load a Lambda handler module the way Lambda does: from `functions/<name>/app.py` by file path.

The loader is the local runtime's (`healthscore_dev.local.handlers`); each load here is a new
execution environment, so module-level state (configuration read at import, cached
clients) starts anew. Import with `from handlers import ...`.
"""

from __future__ import annotations

import itertools
from types import ModuleType

from healthscore_dev.local import handlers
from healthscore_dev.local.lambda_context import LocalLambdaContext

# Numbered apart from the environments the local runtime uses (0, 1, ...) in the same process.
_environments = itertools.count(1_000_000)


def load_handler(name: str) -> ModuleType:
    """Import `functions/<name>/app.py` as a new module (its `lambda_handler` is the handler)."""
    return handlers.load_handler(name, next(_environments))


TEST_REQUEST_ID = "00000000-0000-4000-8000-000000000000"


def lambda_context(function_name: str = "test-function") -> LocalLambdaContext:
    """The Lambda context of one invocation, with a fixed request id to assert on."""
    return LocalLambdaContext(function_name, aws_request_id=TEST_REQUEST_ID)
