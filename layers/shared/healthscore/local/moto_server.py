"""moto's server, serving one request at a time: `python -m healthscore.local.moto_server PORT`.

moto's own `moto.server` is threaded, and its SQS model is not thread-safe: two
concurrent DeleteMessageBatch calls each rebuild the queue's message list, and the
later one brings back what the earlier one deleted (seen here: a batch of ten
scored messages stayed invisible in the queue after a 10,000-tenant run). One
request at a time makes it behave like SQS; the local event source short-polls, so
no request holds the server while it waits.
"""

from __future__ import annotations

import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def serve(port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
