"""An HTTP proxy on loopback in front of the moto server that fails chosen AWS calls on purpose.

A fault test points boto3 at it (AWS_ENDPOINT_URL_<SERVICE>) and says which actions fail:
those get HTTP 500 `InternalFailure`, as an AWS endpoint in trouble answers; every other
request goes to moto unchanged. `calls` records each action seen, failed or forwarded.
Import with `from fault_proxy import ...`.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FAILURE_BODY = b'{"__type": "InternalFailure", "message": "injected by the fault proxy"}'
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class FaultProxy:
    target: str  # the moto endpoint, http://127.0.0.1:PORT
    fails: Callable[[str, int], bool]  # (action, how many times it was seen before) -> fail it?
    calls: list[tuple[str, bool]] = field(default_factory=list)  # (action, failed)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def decide(self, action: str) -> bool:
        with self._lock:
            seen = sum(1 for name, _ in self.calls if name == action)
            failed = self.fails(action, seen)
            self.calls.append((action, failed))
            return failed

    def count(self, action: str, *, failed: bool | None = None) -> int:
        return sum(1 for name, did_fail in self.calls if name == action and failed in (None, did_fail))


def action_of(headers: dict[str, str], body: bytes) -> str:
    """`SendMessageBatch`, `PutEvents`...: from X-Amz-Target (JSON protocols) or the form's Action."""
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    return parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]


@contextmanager
def fault_proxy(target: str, fails: Callable[[str, int], bool]) -> Iterator[FaultProxy]:
    proxy = FaultProxy(target, fails)
    upstream = urlsplit(target)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            if proxy.decide(action_of(headers, body)):
                self._reply(500, [("Content-Type", "application/x-amz-json-1.0")], FAILURE_BODY)
                return
            connection = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port, timeout=30)
            try:
                connection.request("POST", self.path, body, {k: v for k, v in headers.items() if k not in HOP_BY_HOP})
                answer = connection.getresponse()
                self._reply(answer.status, answer.getheaders(), answer.read())
            finally:
                connection.close()

        def do_GET(self) -> None:
            self.do_POST()

        def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: the test asserts on `calls`
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fault-proxy", daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
