"""moto's server, serving one request at a time: `python -m healthscore_dev.local.moto_server PORT [PARENT_PID]`.

moto's own `moto.server` is threaded, and its SQS model is not thread-safe: two
concurrent DeleteMessageBatch calls each rebuild the queue's message list, and the
later one brings back what the earlier one deleted (seen here: a batch of ten
scored messages stayed invisible in the queue after a 10,000-tenant run). One
request at a time makes it behave like SQS; the local event source short-polls, so
no request holds the server while it waits.

Given its parent's pid, it exits once that parent is gone, so that a parent killed without
a chance to stop it (SIGKILL, a crash) leaves no orphan holding a port.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def serve(port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)


def exit_when_orphaned(parent_pid: int, interval: float = 1.0) -> None:
    """Exit this process once `parent_pid` is no longer its parent (it died; init adopted us)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(0)  # the server thread would keep a normal exit waiting

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    if len(sys.argv) > 2:
        exit_when_orphaned(int(sys.argv[2]))
    serve(int(sys.argv[1]))
