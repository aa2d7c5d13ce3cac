"""Where a running `healthscore local serve` is reached: a state file in the local folder (`.local/serve.json`).

`local serve` writes it once it listens and removes it when it stops; `healthscore local url` and the `dlq`
commands read it, so that nothing has to be exported by hand although the queue's port is a free one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import BaseModel

from healthscore_dev.local.embedded_db import local_dir

STATE_FILE = "serve.json"
POLL_SECONDS = 0.2


class ServeState(BaseModel):
    pid: int
    api_url: str  # the JWT routes' base URL, prefix included
    portal_url: str  # the reference portal, pointed at api_url
    sqs_endpoint: str
    scoring_queue_url: str
    dead_letter_queue_url: str


def state_path() -> Path:
    return local_dir() / STATE_FILE


def write_state(state: ServeState) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(state.model_dump_json(indent=2))
    partial.replace(path)  # readers never see half a file


def remove_state(pid: int) -> None:
    """Remove the state file if it is this server's (a second server in the folder may have replaced it)."""
    state = _read()
    if state is not None and state.pid == pid:
        state_path().unlink(missing_ok=True)


def running_state() -> ServeState | None:
    """The state of the server running from this local folder, or None (none started, or it was killed)."""
    state = _read()
    return state if state is not None and _alive(state.pid) else None


def wait_for_state(seconds: float) -> ServeState | None:
    deadline = time.monotonic() + seconds
    while (state := running_state()) is None and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    return state


def _read() -> ServeState | None:
    try:
        return ServeState.model_validate_json(state_path().read_text())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
