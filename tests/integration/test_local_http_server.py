"""The local HTTP server (healthscore_dev/local/http_server.py, werkzeug underneath) over real sockets: framing,
limits, timeouts. werkzeug's server answers one request per connection (`Connection: close`).

The gateway behind it is replaced by a recorder of what reached it, so that each test
can say whether a refused request got through; the routing, CORS and authorizer side
runs against `healthscore local serve` in tests/e2e/test_local_server.py.
"""

from __future__ import annotations

import errno
import http.client
import json
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from healthscore_dev.local.http_server import (
    MAX_BODY_BYTES,
    READ_TIMEOUT_SECONDS,
    HttpRequest,
    HttpResponse,
    LocalHttpServer,
    start_server,
)

READ_TIMEOUT = 0.5  # the server's, shortened so that a test waits for it briefly
CLIENT_TIMEOUT = 20  # far above READ_TIMEOUT: a test that reaches it has found a hang


@dataclass
class Recorder:
    requests: list[HttpRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: HttpRequest) -> HttpResponse:
        with self._lock:
            self.requests.append(request)
        answer = {"method": request.method, "target": request.target, "bodyLength": len(request.body)}
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(answer).encode())


@dataclass
class Served:
    port: int
    recorder: Recorder


@pytest.fixture
def served() -> Iterator[Served]:
    recorder = Recorder()
    server = start_server(0, recorder.handle, read_timeout=READ_TIMEOUT)
    yield Served(int(server.server_address[1]), recorder)
    server.stop()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    closed: bool  # the server closed the connection after it


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)


def read_answer(sock: socket.socket, method: str = "GET") -> Answer:
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    raw = response.read()
    headers = {name.lower(): value for name, value in response.getheaders()}
    body = json.loads(raw) if raw else None
    return Answer(response.status, headers, body, closed=_closed(sock))


def _closed(sock: socket.socket) -> bool:
    """Whether the peer has closed: EOF (or a reset) on a read that waits at most CLIENT_TIMEOUT."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def exchange(port: int, data: bytes) -> Answer:
    with connect(port) as sock:
        sock.sendall(data)
        return read_answer(sock)


def request_bytes(method: str = "POST", headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} /echo HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- Content-Length -----------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "0x10", "+5", "5, 5", "99999999999999999999999"])
def test_unusable_content_length_is_400_json_and_never_reaches_the_gateway(served: Served, length: str) -> None:
    answer = exchange(served.port, request_bytes(headers={"Content-Length": length}, body=b"hello"))

    assert (answer.status, answer.body) == (400, {"message": "Content-Length must be one non-negative integer"})
    assert answer.headers["content-type"] == "application/json"
    assert answer.closed  # the unread body must not be parsed as the next request
    assert served.recorder.requests == []


def test_conflicting_content_lengths_are_400(served: Served) -> None:
    data = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"

    assert exchange(served.port, data).status == 400
    assert served.recorder.requests == []


def test_body_above_api_gateways_10_mb_is_413_before_it_is_sent(served: Served) -> None:
    # 10 GB announced, nothing sent: the answer comes without the server reading (or reserving) anything.
    answer = exchange(served.port, request_bytes(headers={"Content-Length": str(10 * 1024**3)}))

    assert (answer.status, answer.body) == (413, {"message": f"Request body above {MAX_BODY_BYTES} bytes"})
    assert answer.closed
    assert exchange(served.port, request_bytes(headers={"Content-Length": str(MAX_BODY_BYTES + 1)})).status == 413
    assert served.recorder.requests == []


def test_body_of_exactly_10_mb_is_served(served: Served) -> None:
    body = b"x" * MAX_BODY_BYTES

    answer = exchange(served.port, request_bytes(headers={"Content-Length": str(len(body))}, body=body))

    assert (answer.status, answer.body["bodyLength"]) == (200, MAX_BODY_BYTES)


def test_client_leaving_mid_body_runs_nothing(served: Served) -> None:
    with connect(served.port) as sock:
        sock.sendall(request_bytes(headers={"Content-Length": "100"}, body=b"only ten.."))
        sock.shutdown(socket.SHUT_WR)
        assert _closed(sock)

    assert served.recorder.requests == []


# --- Transfer-Encoding: chunked -----------------------------------------------------------------


def chunked(*chunks: bytes, extension: bytes = b"", trailer: bytes = b"") -> bytes:
    return b"".join(b"%x%s\r\n%s\r\n" % (len(c), extension, c) for c in chunks) + b"0\r\n" + trailer + b"\r\n"


def test_chunked_body_is_read_whole_and_the_connection_closed_after_the_answer(served: Served) -> None:
    with connect(served.port) as sock:
        sock.sendall(request_bytes(headers={"Transfer-Encoding": "chunked"}, body=chunked(b'{"a": ', b"1}")))
        answer = read_answer(sock, "POST")

    assert (answer.status, answer.body) == (200, {"method": "POST", "target": "/echo", "bodyLength": 8})
    assert answer.closed  # nothing left on the connection could be read as another request
    assert [request.body for request in served.recorder.requests] == [b'{"a": 1}']


@pytest.mark.parametrize(
    "body",
    [chunked(b"hello", extension=b";ext=1"), chunked(b"hello", trailer=b"X-Checksum: 1\r\n")],
    ids=["chunk-extension", "trailer"],
)
def test_chunk_extensions_and_trailers_are_refused_never_misread(served: Served, body: bytes) -> None:
    # werkzeug's chunked reader takes neither; what matters is that nothing is misread as a body or a request.
    answer = exchange(served.port, request_bytes(headers={"Transfer-Encoding": "chunked"}, body=body))

    assert (answer.status, answer.body, answer.closed) == (
        400,
        {
            "message": "Malformed chunked body: "
            + ("Invalid chunk header" if b";" in body else "Missing chunk terminating newline")
        },
        True,
    )
    assert served.recorder.requests == []


CLIENTS_LEAVING_INSIDE_A_CHUNK = """
import socket
from healthscore_dev.local.http_server import HttpResponse, start_server

server = start_server(0, lambda request: HttpResponse(200, {}, b"{}"), read_timeout=5)
head = b"POST /e HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
for _ in range(300):
    client = socket.create_connection(("127.0.0.1", server.server_address[1]))
    client.sendall(head + b"5" * 9000 + b"\\r\\n")
    client.close()
client = socket.create_connection(("127.0.0.1", server.server_address[1]))
client.sendall(b"GET /e HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
print(client.recv(100).split(b"\\r\\n")[0].decode())
"""


def test_clients_leaving_inside_a_chunk_never_crash_the_server() -> None:
    # werkzeug's chunked reader resized the buffer it was lent on a short read: the process died of SIGSEGV
    # within 300 such clients. In a child process, so that a crash fails this test rather than the test run.
    child = subprocess.run(
        [sys.executable, "-c", CLIENTS_LEAVING_INSIDE_A_CHUNK], capture_output=True, text=True, timeout=120
    )

    assert (child.returncode, child.stdout.strip()) == (0, "HTTP/1.1 200 OK"), child.stderr[-2000:]


def test_chunked_body_of_exactly_10_mb_is_served(served: Served) -> None:
    body = chunked(*[b"x" * (1024 * 1024)] * 10)
    answer = exchange(served.port, request_bytes(headers={"Transfer-Encoding": "chunked"}, body=body))

    assert (answer.status, answer.body["bodyLength"]) == (200, MAX_BODY_BYTES)


def test_chunked_body_above_10_mb_is_413(served: Served) -> None:
    piece = b"x" * (1024 * 1024)
    body = chunked(*[piece] * 10, b"!")  # 10 MB and one byte
    with connect(served.port) as sock:
        sock.sendall(request_bytes(headers={"Transfer-Encoding": "chunked"}, body=body))
        answer = read_answer(sock)

    assert (answer.status, answer.body, answer.closed) == (
        413,
        {"message": f"Request body above {MAX_BODY_BYTES} bytes"},
        True,
    )
    assert served.recorder.requests == []


@pytest.mark.parametrize(
    ("headers", "body", "status", "message"),
    [
        (
            {"Transfer-Encoding": "chunked"},
            b"zz\r\nhello\r\n0\r\n\r\n",
            400,
            "Malformed chunked body: Invalid chunk header",
        ),
        (
            {"Transfer-Encoding": "chunked"},
            b"5\r\nhelloXX0\r\n\r\n",
            400,
            "Malformed chunked body: Missing chunk terminating newline",
        ),
        # A size line that never ends reads as a huge chunk whose data never comes: the deadline ends it.
        ({"Transfer-Encoding": "chunked"}, b"5" * 9000 + b"\r\n", 408, "Request Timeout"),
        (
            {"Transfer-Encoding": "chunked", "Content-Length": "5"},
            b"5\r\nhello\r\n0\r\n\r\n",
            400,
            "Both Transfer-Encoding and Content-Length",
        ),
        ({"Transfer-Encoding": "gzip, chunked"}, b"", 501, "Only Transfer-Encoding: chunked is supported"),
    ],
    ids=["bad-size", "no-crlf", "endless-size-line", "te-and-cl", "gzip"],
)
def test_bad_chunked_framing_is_refused_in_json(
    served: Served, headers: dict[str, str], body: bytes, status: int, message: str
) -> None:
    answer = exchange(served.port, request_bytes(headers=headers, body=body))

    assert (answer.status, answer.body, answer.closed) == (status, {"message": message}, True)
    assert served.recorder.requests == []


# --- errors http.server raises itself -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /echo HTTP/9.9\r\n\r\n", 505),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /echo HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    ],
    ids=["bad-request-line", "bad-version", "uri-too-long", "header-too-long"],
)
def test_http_servers_own_refusals_are_json(served: Served, data: bytes, status: int) -> None:
    answer = exchange(served.port, data)

    assert answer.status == status
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.body) == {"message"}
    assert answer.closed


# --- read timeout -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "partial",
    [b"", b"GET /echo HT", b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"],
    ids=["nothing", "half-request-line", "headers-never-ended"],
)
def test_half_sent_request_is_closed_after_the_read_timeout(served: Served, partial: bytes) -> None:
    with connect(served.port) as sock:
        sock.sendall(partial)
        assert _closed(sock)  # within CLIENT_TIMEOUT; the server's READ_TIMEOUT is far shorter

    assert served.recorder.requests == []


def _trickle_until_closed(sock: socket.socket, seconds: float) -> float | None:
    """Send one byte every 0.1 s for up to `seconds`; how long until the server closed the connection, or None."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        time.sleep(0.1)
        try:
            sock.sendall(b"a")
            readable, _, _ = select.select([sock], [], [], 0)
            if readable and sock.recv(1) == b"":
                return time.monotonic() - started
        except OSError:  # reset or broken pipe: closed
            return time.monotonic() - started
    return None


def test_a_request_trickling_one_byte_at_a_time_is_closed_at_the_deadline(served: Served) -> None:
    # Each byte comes well inside READ_TIMEOUT, so a timeout per read would never fire: the deadline is per request.
    with connect(served.port) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        closed_after = _trickle_until_closed(sock, 10 * READ_TIMEOUT)

    assert closed_after is not None, "a client trickling bytes held the connection open"
    assert served.recorder.requests == []


def test_the_read_deadline_is_10_seconds_unless_told() -> None:
    server = start_server(0, Recorder().handle)
    try:
        assert server.read_timeout == READ_TIMEOUT_SECONDS == 10.0
    finally:
        server.stop()


def test_half_sent_body_is_408_after_the_read_timeout(served: Served) -> None:
    with connect(served.port) as sock:
        sock.sendall(request_bytes(headers={"Content-Length": "10"}, body=b"12345"))
        answer = read_answer(sock)

    assert (answer.status, answer.body, answer.closed) == (408, {"message": "Request Timeout"}, True)
    assert served.recorder.requests == []


# --- listen backlog -----------------------------------------------------------------------------


def test_a_burst_of_connections_is_queued_not_dropped() -> None:
    """100 clients connect while no connection is accepted yet: each completes its handshake.

    With socketserver's default backlog of 5 the kernel drops the SYNs beyond the queue, and
    those clients retry only after 1-3 s.
    """
    server = LocalHttpServer(0, Recorder().handle, log_requests=False)  # listening, not accepting yet
    clients = [socket.socket() for _ in range(100)]
    try:
        port = server.server_address[1]
        for client in clients:
            client.setblocking(False)
            assert client.connect_ex(("127.0.0.1", port)) in (0, errno.EINPROGRESS)
        pending = set(clients)
        deadline = time.monotonic() + 5  # SYN retries happen at 1 s and 3 s: well inside
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], list(pending), [], 0.2)
            pending -= set(writable)
        established = [c for c in clients if c not in pending and c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0]
        assert len(established) == 100
    finally:
        for client in clients:
            client.close()
        server.server_close()
