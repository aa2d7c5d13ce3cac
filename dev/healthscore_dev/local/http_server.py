"""The API on 127.0.0.1 as API Gateway serves it: HTTP request -> v2 event -> authorizer -> api.

The route table is the template's (the ApiFunction's HttpApi events), so a route missing
there is missing here too. For a JWT route the real authorizer handler runs first with a
REQUEST authorizer event, and API Gateway's answers are mimicked: 401 {"message":
"Unauthorized"} when the identity source (the Authorization header) is absent, without
calling the authorizer; 403 {"message": "Forbidden"} when it answers isAuthorized false;
500 {"message": "Internal Server Error"} when a handler fails. An AWS_IAM route verifies the
request's SigV4 signature (`sigv4`) and passes the caller as `requestContext.authorizer.iam`.
Authorizer caching is not emulated.

The template's CORS configuration is applied as API Gateway applies it (see `cors`). A
path that exists with another method answers 405 with `Allow`, an unknown path 404, and
every error, down to a malformed request line, is JSON `{"message": ...}`. HTTP itself is
werkzeug's (request line, headers, Content-Length and chunked bodies, one request per
connection), holding what API Gateway holds: a body of at most 10 MB (413 above; refused
before reading it when Content-Length announces it), one valid `Content-Length` or
`Transfer-Encoding: chunked` (400 otherwise), a deadline for the whole request (a client
sending a byte every few seconds does not hold a thread forever), and a listen backlog that
50 clients opening connections at once do not overflow.

`LambdaInvokeApi` stands in for the Lambda Invoke API, so that the API's own boto3
call (POST /calculate-all invokes the fan-out) works locally unchanged.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import IO, Any, Final, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.serving import DechunkedInput, ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request

from healthscore_dev.local.cors import CorsSettings, template_cors
from healthscore_dev.local.lambda_context import LOCAL_ACCOUNT, LOCAL_REGION, LocalLambdaContext
from healthscore_dev.local.sigv4 import SignatureRefusedError, SigV4Verifier

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
LOCAL_API_ID = "local"
IAM = "AWS_IAM"
NO_AUTH = "NONE"
MAX_BODY_BYTES: Final = 10 * 1024 * 1024  # API Gateway's payload cap
READ_TIMEOUT_SECONDS: Final = 10.0


@dataclass(frozen=True)
class LocalRoute:
    method: str
    path: str  # the template's path, with {parameter} segments
    authorizer: str  # the authorizer's name in the template, AWS_IAM or NONE

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves `method path`, else None."""
        return self.path_parameters(path) if method == self.method else None

    def path_parameters(self, path: str) -> dict[str, str] | None:
        """The path parameters when this route's path matches `path` (whatever the method), else None."""
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return {name: unquote(value) for name, value in found.groupdict().items()} if found else None


@dataclass(frozen=True)
class ApiRoutes:
    routes: list[LocalRoute]
    identity_headers: dict[str, list[str]]  # authorizer name -> its identity source headers (lower case)
    cors: CorsSettings | None = None


def template_api_routes(
    template: Mapping[str, Any], function: str = "ApiFunction", parameters: Mapping[str, str] | None = None
) -> ApiRoutes:
    """The routes of `function`'s HttpApi events, each authorizer's identity headers and the API's CORS
    configuration (template parameters it refers to taken from `parameters`, else their defaults)."""
    resources = template["Resources"]
    events = resources[function]["Properties"]["Events"].values()
    api_ids = {event["Properties"]["ApiId"]["Ref"] for event in events if event["Type"] == "HttpApi"}
    if len(api_ids) != 1:
        raise ValueError(f"{function} must serve exactly one HttpApi, found {sorted(api_ids)}")
    api = resources[api_ids.pop()]
    auth = api["Properties"].get("Auth", {})
    routes = [
        LocalRoute(
            method=event["Properties"]["Method"].upper(),
            path=event["Properties"]["Path"],
            authorizer=event["Properties"].get("Auth", {}).get("Authorizer", auth.get("DefaultAuthorizer", NO_AUTH)),
        )
        for event in events
        if event["Type"] == "HttpApi"
    ]
    identity_headers = {
        name: [header.lower() for header in authorizer.get("Identity", {}).get("Headers", [])]
        for name, authorizer in auth.get("Authorizers", {}).items()
    }
    return ApiRoutes(routes, identity_headers, template_cors(template, api, parameters or {}))


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # the request line's target: raw path and query string
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive)."""
        return next((value for key, value in self.headers if key.lower() == name), None)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def message(cls, status: HTTPStatus, message: str) -> HttpResponse:
        return cls(status, {"content-type": "application/json"}, json.dumps({"message": message}).encode())


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Repeated names joined with commas, as payload 2.0 does for headers and query parameters."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def request_event(request: HttpRequest, route: LocalRoute, path_parameters: dict[str, str]) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event of a request (no authorizer context yet)."""
    url = urlsplit(request.target)
    pairs = [(name.lower(), value) for name, value in request.headers]
    cookies = [c.strip() for name, value in pairs if name == "cookie" for c in value.split(";") if c.strip()]
    headers = _joined([(name, value) for name, value in pairs if name != "cookie"])
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": headers,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": LOCAL_API_ID,
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": request.method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if url.query:
        event["queryStringParameters"] = _joined(parse_qsl(url.query, keep_blank_values=True))
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        try:
            event["body"] = request.body.decode()
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(request.body).decode(), True
    return event


def authorizer_event(event: dict[str, Any], identity_source: list[str]) -> dict[str, Any]:
    """The REQUEST authorizer event (payload 2.0) of a request event."""
    http = event["requestContext"]["http"]
    route_arn = (
        f"arn:aws:execute-api:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{LOCAL_API_ID}/$default/{http['method']}{http['path']}"
    )
    authorizer = {key: value for key, value in event.items() if key not in ("body", "isBase64Encoded")}
    return {**authorizer, "type": "REQUEST", "routeArn": route_arn, "identitySource": identity_source}


def lambda_response(result: Any) -> HttpResponse:
    """The HTTP answer API Gateway makes of a payload 2.0 Lambda response."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload 2.0: anything else is a JSON body with status 200.
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(result).encode())
    headers = {name.lower(): str(value) for name, value in (result.get("headers") or {}).items()}
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return HttpResponse(int(result["statusCode"]), headers, raw)


class LocalFunction:
    """One emulated execution environment of a handler: its own thread, one invocation at a time.

    As in Lambda, what the handler keeps per environment (its thread's database connection,
    Powertools' current event) lives on between invocations and is never shared.
    """

    def __init__(self, name: str, handler: Handler) -> None:
        self.name = name
        self._handler = handler
        self._environment = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def invoke(self, event: dict[str, Any]) -> Any:
        return self._environment.submit(self._handler, event, LocalLambdaContext(self.name)).result()


class LocalApiGateway:
    """What API Gateway does with one request: route, authorize, integrate."""

    def __init__(
        self, routes: ApiRoutes, api: LocalFunction, authorizer: LocalFunction, iam: SigV4Verifier | None = None
    ) -> None:
        self.routes = routes
        self.api = api
        self.authorizer = authorizer
        self.iam = iam

    def handle(self, request: HttpRequest) -> HttpResponse:
        cors, origin = self.routes.cors, request.header("origin")
        if cors and origin and request.method == "OPTIONS" and request.header("access-control-request-method"):
            # Answered by API Gateway itself: no route, no authorizer. An origin not allowed gets no CORS headers.
            headers = cors.preflight_headers(origin) if cors.allows(origin) else {}
            return HttpResponse(HTTPStatus.NO_CONTENT, headers, b"")
        response = self._route(request)
        if cors and origin and cors.allows(origin):
            response = replace(response, headers={**response.headers, **cors.response_headers(origin)})
        return response

    def _route(self, request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.target).path
        methods = []
        for route in self.routes.routes:
            path_parameters = route.path_parameters(path)
            if path_parameters is not None and route.method == request.method:
                return self._serve(request, route, path_parameters)
            if path_parameters is not None:
                methods.append(route.method)
        if methods:
            allow = ", ".join(sorted({*methods, *(["OPTIONS"] if self.routes.cors else [])}))
            refused = HttpResponse.message(HTTPStatus.METHOD_NOT_ALLOWED, f"Method {request.method} not allowed")
            return replace(refused, headers={**refused.headers, "allow": allow})
        return HttpResponse.message(HTTPStatus.NOT_FOUND, "Not Found")

    def _serve(self, request: HttpRequest, route: LocalRoute, path_parameters: dict[str, str]) -> HttpResponse:
        event = request_event(request, route, path_parameters)
        if route.authorizer == IAM:
            if self.iam is None:
                return HttpResponse.message(HTTPStatus.FORBIDDEN, "Forbidden")
            url = f"http://{request.header('host') or '127.0.0.1'}{request.target}"
            try:
                identity = self.iam.verify(request.method, url, request.headers, request.body)
            except SignatureRefusedError as refused:
                return HttpResponse.message(HTTPStatus.FORBIDDEN, str(refused))
            event["requestContext"]["authorizer"] = {"iam": identity}
        elif route.authorizer != NO_AUTH:
            identity_source = [event["headers"].get(name) for name in self.routes.identity_headers[route.authorizer]]
            if not all(identity_source):
                return HttpResponse.message(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            try:
                answer = self.authorizer.invoke(authorizer_event(event, [str(value) for value in identity_source]))
            except Exception:
                logger.exception("the %s handler failed", self.authorizer.name)
                return HttpResponse.message(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
            if not isinstance(answer, dict) or answer.get("isAuthorized") is not True:
                return HttpResponse.message(HTTPStatus.FORBIDDEN, "Forbidden")
            event["requestContext"]["authorizer"] = {"lambda": answer.get("context") or {}}
        try:
            return lambda_response(self.api.invoke(event))
        except Exception:
            logger.exception("the %s handler failed", self.api.name)
            return HttpResponse.message(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")


class _ReadDeadline:
    """The whole request (line, headers, body) must arrive within `seconds` of the connection's start.

    A socket timeout would apply per `recv`: a client sending a byte every few seconds would hold its
    thread forever. When the deadline passes the socket's reading side is shut, so the pending read
    ends; before the headers are complete the connection is closed without an answer, in the body the
    request is answered 408 (`expired`), and in either case it never reaches the gateway.
    """

    def __init__(self, connection: socket.socket, seconds: float) -> None:
        self._connection = connection
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self.in_body = False
        self.expired = False
        self.expired_in_body = False

    def start(self) -> None:
        self._timer.start()

    def met(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        self.expired, self.expired_in_body = True, self.in_body
        with contextlib.suppress(OSError):  # the connection may be gone already
            self._connection.shutdown(socket.SHUT_RD if self.in_body else socket.SHUT_RDWR)


class _WholeReads:
    """A request stream whose `read(n)` gives n bytes or raises ConnectionResetError: never a short read."""

    def __init__(self, stream: io.BufferedIOBase) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if size > 0 and len(data) < size:
            raise ConnectionResetError("the request ended inside a chunk")
        return data

    def readline(self, size: int = -1) -> bytes:
        return self._stream.readline(size)


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's request handler (request line, headers, chunked bodies), with API Gateway's refusals in JSON.

    werkzeug answers every request with `Connection: close`: one request per connection.
    """

    server: LocalHttpServer

    def setup(self) -> None:
        super().setup()
        self.deadline = _ReadDeadline(self.connection, self.server.read_timeout)
        self.deadline.start()

    def finish(self) -> None:
        self.deadline.met()
        super().finish()

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        if isinstance(environ["wsgi.input"], DechunkedInput):
            # werkzeug's chunked reader writes a short read (the client gone, or cut off at the deadline) into
            # the buffer it was lent, resizing it under the caller: the interpreter crashed (SIGSEGV) on it.
            environ["wsgi.input"] = DechunkedInput(cast(IO[bytes], _WholeReads(self.rfile)))
        self.deadline.in_body = True
        # What WSGI's environment loses: repeated headers apart, the raw target, the deadline.
        environ[_RAW] = (self.path, list(self.headers.items()), self.deadline)
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, header too long...) in JSON, as the API's errors."""
        status = HTTPStatus(code)
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        # An unparsable request line leaves http.server's HTTP/0.9 default, whose answers have no status line.
        self.request_version = self.protocol_version
        body = HttpResponse.message(status, message or status.phrase).body
        self.send_response(code, status.phrase)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.server.log_requests:
            return
        preflight = self.command == "OPTIONS" and self.headers.get("access-control-request-method")
        if preflight:  # which method the browser asks about: a preflight's request line does not say
            self.log("info", '"%s" %s preflight for %s', self.requestline, code, preflight)
        else:
            super().log_request(code, size)


_RAW: Final = "healthscore.raw_request"


def _framing_refusal(headers: list[tuple[str, str]]) -> HttpResponse | None:
    """API Gateway's refusals of a request's framing, decided on its headers before any of the body is read."""
    lengths = [value.strip() for name, value in headers if name.lower() == "content-length"]
    encodings = [value for name, value in headers if name.lower() == "transfer-encoding"]
    if encodings:
        if lengths:  # the shape of request smuggling: which one frames the body is ambiguous
            return HttpResponse.message(HTTPStatus.BAD_REQUEST, "Both Transfer-Encoding and Content-Length")
        if [coding.strip().lower() for value in encodings for coding in value.split(",")] != ["chunked"]:
            return HttpResponse.message(HTTPStatus.NOT_IMPLEMENTED, "Only Transfer-Encoding: chunked is supported")
        return None
    # werkzeug reads a Content-Length that is not an integer as 0: the body would be dropped, not refused.
    if lengths and (len(set(lengths)) > 1 or not re.fullmatch(r"[0-9]{1,20}", lengths[0])):
        return HttpResponse.message(HTTPStatus.BAD_REQUEST, "Content-Length must be one non-negative integer")
    return None


def _read_request(environ: dict[str, Any]) -> HttpRequest | HttpResponse:
    """The request, or the answer refusing it. ClientGoneError when the client left: nobody to answer."""
    target, headers, deadline = environ[_RAW]
    refused = _framing_refusal(headers)
    if refused:
        return refused
    too_large = HttpResponse.message(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"Request body above {MAX_BODY_BYTES} bytes")
    request = Request(environ)
    # A Content-Length above the cap is refused before reading; a chunked body is cut at the cap without a word,
    # so one byte more is read to tell a body of exactly 10 MB from a longer one.
    request.max_content_length = MAX_BODY_BYTES if request.content_length is not None else MAX_BODY_BYTES + 1
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return too_large
    except ClientDisconnected as exc:
        if deadline.expired_in_body:
            return HttpResponse.message(HTTPStatus.REQUEST_TIMEOUT, "Request Timeout")
        if isinstance(exc.__context__, OSError) and not deadline.expired:  # werkzeug's chunked reader refused it
            return HttpResponse.message(HTTPStatus.BAD_REQUEST, f"Malformed chunked body: {exc.__context__}")
        raise ClientGoneError from exc
    finally:
        deadline.met()
    if deadline.expired_in_body:
        return HttpResponse.message(HTTPStatus.REQUEST_TIMEOUT, "Request Timeout")
    if deadline.expired:  # the headers were cut short: http.server took what had come as the whole request
        raise ClientGoneError
    if len(body) > MAX_BODY_BYTES:
        return too_large
    return HttpRequest(
        method=request.method, target=target, headers=headers, body=body, source_ip=request.remote_addr or ""
    )


class ClientGoneError(ConnectionResetError):
    """The client left (or was cut off) before sending the whole request: werkzeug drops it without an answer."""


class LocalHttpServer(ThreadedWSGIServer):
    """A werkzeug WSGI server on 127.0.0.1 handing each request to `handle`; every refusal is JSON."""

    def __init__(
        self,
        port: int,
        handle: Callable[[HttpRequest], HttpResponse],
        log_requests: bool,
        read_timeout: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        # werkzeug's listen backlog is 128: socketserver's default of 5 makes the kernel drop SYNs once
        # 6 connections wait to be accepted, and each dropped one is retried by the client after 1-3 s.
        super().__init__("127.0.0.1", port, self._wsgi, handler=_RequestHandler)
        self.handle_http = handle
        self.log_requests = log_requests
        self.read_timeout = read_timeout

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request = _read_request(environ)
        response = self.handle_http(request) if isinstance(request, HttpRequest) else request
        headers = [*response.headers.items(), ("content-length", str(len(response.body)))]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [response.body]  # a HEAD answer has headers only

    @property
    def endpoint_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is routine; anything else is logged, not printed raw.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


def start_server(
    port: int,
    handle: Callable[[HttpRequest], HttpResponse],
    *,
    log_requests: bool = False,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> LocalHttpServer:
    """Serve `handle` on 127.0.0.1:`port` (0: any free port) in a daemon thread."""
    server = LocalHttpServer(port, handle, log_requests, read_timeout)
    threading.Thread(target=server.serve_forever, args=(0.1,), name=f"http-{port}", daemon=True).start()
    return server


@dataclass(frozen=True)
class Invocation:
    function_name: str
    invocation_type: str
    payload: Any


INVOKE_PATH = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)/invocations")


@dataclass
class LambdaInvokeApi:
    """The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) for local functions.

    An `Event` invocation answers 202 at once and runs the handler in a background thread,
    as Lambda's asynchronous invocation does; `RequestResponse` runs it and returns its result.
    """

    functions: dict[str, LocalFunction]
    invocations: list[Invocation] = field(default_factory=list)
    background: list[threading.Thread] = field(default_factory=list)

    def handle(self, request: HttpRequest) -> HttpResponse:
        found = INVOKE_PATH.fullmatch(urlsplit(request.target).path)
        if request.method != "POST" or not found:
            return HttpResponse.message(HTTPStatus.NOT_FOUND, "only POST /2015-03-31/functions/{name}/invocations")
        name = unquote(found["name"]).rsplit(":function:", 1)[-1].split(":")[0]  # a name, ARN or partial ARN
        function = self.functions.get(name)
        if function is None:
            return HttpResponse(
                HTTPStatus.NOT_FOUND,
                {"content-type": "application/json", "x-amzn-errortype": "ResourceNotFoundException"},
                json.dumps({"Type": "User", "Message": f"Function not found: {name}"}).encode(),
            )
        headers = {header.lower(): value for header, value in request.headers}
        invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
        payload = json.loads(request.body or b"{}")
        self.invocations.append(Invocation(name, invocation_type, payload))
        if invocation_type == "Event":
            worker = threading.Thread(target=self._run_async, args=(function, payload), name=f"invoke-{name}")
            self.background.append(worker)
            worker.start()
            return HttpResponse(HTTPStatus.ACCEPTED, {}, b"")
        if invocation_type == "DryRun":
            return HttpResponse(HTTPStatus.NO_CONTENT, {}, b"")
        try:
            result = function.invoke(payload)
        except Exception as exc:
            error = {"errorMessage": str(exc), "errorType": type(exc).__name__}
            return HttpResponse(200, {"x-amz-function-error": "Unhandled"}, json.dumps(error).encode())
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(result, default=str).encode())

    @staticmethod
    def _run_async(function: LocalFunction, payload: Any) -> None:
        try:
            function.invoke(payload)
        except Exception:  # Lambda would retry twice, then drop the event
            logger.exception("asynchronous invocation of %s failed", function.name)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the asynchronous invocations started so far."""
        for worker in list(self.background):
            worker.join(timeout)
