"""Load a Lambda handler module the way Lambda does: from `functions/<name>/app.py` by file path.

The loader is the local runtime's (`healthscore.local.handlers`); each load here is a new
execution environment, so module-level state (configuration read at import, cached
clients) starts anew. Import with `from handlers import ...`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from types import ModuleType

from healthscore.local import handlers

# Numbered apart from the environments the local runtime uses (0, 1, ...) in the same process.
_environments = itertools.count(1_000_000)


def load_handler(name: str) -> ModuleType:
    """Import `functions/<name>/app.py` as a new module (its `lambda_handler` is the handler)."""
    return handlers.load_handler(name, next(_environments))


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes of the Lambda context that Powertools reads."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
