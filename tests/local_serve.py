"""`healthscore local serve` and `healthscore local token` as real processes, for the tests over real HTTP.

Import with `from local_serve import ...` (pytest puts `tests/` on sys.path).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from healthscore_dev.local.sqs_server import free_port

PREFIX = "/api/v1/internal/client-health"
STARTUP_SECONDS = 60


def healthscore(*args: str, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "healthscore_dev.cli.main", *args], env=env, text=True, **kwargs)


def serve_environment(database_url: str, local_dir: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "HEALTHSCORE_LOCAL_DIR": str(local_dir)}


def call(url: str, token: str | None = None, method: str = "GET") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def call_or_none(url: str) -> tuple[int, Any] | None:
    try:
        return call(url)
    except OSError:
        return None


def spawn_serve(
    environment: dict[str, str], log: IO[str], *options: str, **popen: Any
) -> tuple[subprocess.Popen[str], int]:
    """`healthscore local serve` on free ports (the API's and the portal's), its output to `log`; (process, port)."""
    port = free_port()
    process = healthscore(
        "local",
        "serve",
        "--port",
        str(port),
        "--portal-port",
        str(free_port()),
        *options,
        env=environment,
        stdout=log,
        stderr=log,
        **popen,
    )
    return process, port


@contextmanager
def local_serve(environment: dict[str, str], log_path: Path, *options: str) -> Iterator[str]:
    """The base URL (with the JWT prefix) of a running `healthscore local serve`; Ctrl-C stops it after."""
    with log_path.open("w") as log:
        process, port = spawn_serve(environment, log, *options)
        base_url = f"http://127.0.0.1:{port}{PREFIX}"
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while call_or_none(f"{base_url}/scores") is None:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the server did not start in time"
                time.sleep(0.2)
            yield base_url
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def portal_origin(log_path: Path) -> str:
    """The origin of the portal a running `local serve` printed (its CORS origin unless --portal-origin)."""
    found = re.search(r"^Portal: (http://127\.0\.0\.1:[0-9]+)/", log_path.read_text(), re.MULTILINE)
    assert found, log_path.read_text()
    return found[1]


def mint(role: str, environment: dict[str, str]) -> str:
    process = healthscore("local", "token", "--role", role, env=environment, stdout=subprocess.PIPE)
    token, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    return token.strip()
