"""The API on 127.0.0.1 as API Gateway serves it: HTTP request -> v2 event -> authorizer -> api.

The route table is the template's (the ApiFunction's HttpApi events), so a route missing
there is missing here too. For a JWT route the real authorizer handler runs first with a
REQUEST authorizer event, and API Gateway's answers are mimicked: 401 {"message":
"Unauthorized"} when the identity source (the Authorization header) is absent, without
calling the authorizer; 403 {"message": "Forbidden"} when it answers isAuthorized false;
500 {"message": "Internal Server Error"} when a handler fails. AWS_IAM routes are not
served: SigV4 is not emulated. Authorizer caching is not emulated either.

`LambdaInvokeApi` stands in for the Lambda Invoke API, so that the API's own boto3
call (POST /calculate-all invokes the fan-out) works locally unchanged.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from healthscore.local.lambda_context import LOCAL_ACCOUNT, LOCAL_REGION, LocalLambdaContext

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
LOCAL_API_ID = "local"
IAM = "AWS_IAM"
NO_AUTH = "NONE"


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
        if method != self.method:
            return None
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return {name: unquote(value) for name, value in found.groupdict().items()} if found else None


@dataclass(frozen=True)
class ApiRoutes:
    routes: list[LocalRoute]
    identity_headers: dict[str, list[str]]  # authorizer name -> its identity source headers (lower case)


def template_api_routes(template: Mapping[str, Any], function: str = "ApiFunction") -> ApiRoutes:
    """The routes of `function`'s HttpApi events and each authorizer's identity headers."""
    resources = template["Resources"]
    events = resources[function]["Properties"]["Events"].values()
    api_ids = {event["Properties"]["ApiId"]["Ref"] for event in events if event["Type"] == "HttpApi"}
    if len(api_ids) != 1:
        raise ValueError(f"{function} must serve exactly one HttpApi, found {sorted(api_ids)}")
    auth = resources[api_ids.pop()]["Properties"].get("Auth", {})
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
    return ApiRoutes(routes, identity_headers)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # the request line's target: raw path and query string
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


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

    def __init__(self, routes: ApiRoutes, api: LocalFunction, authorizer: LocalFunction) -> None:
        self.routes = routes
        self.api = api
        self.authorizer = authorizer

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.target).path
        for route in self.routes.routes:
            path_parameters = route.match(request.method, path)
            if path_parameters is not None:
                return self._serve(request, route, path_parameters)
        return HttpResponse.message(HTTPStatus.NOT_FOUND, "Not Found")

    def _serve(self, request: HttpRequest, route: LocalRoute, path_parameters: dict[str, str]) -> HttpResponse:
        if route.authorizer == IAM:
            return HttpResponse.message(
                HTTPStatus.FORBIDDEN, "AWS_IAM routes are not served locally (SigV4 signing is not emulated)"
            )
        event = request_event(request, route, path_parameters)
        if route.authorizer != NO_AUTH:
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


class _RequestHandler(BaseHTTPRequestHandler):
    """Adapts http.server to a `handle(HttpRequest) -> HttpResponse` callable."""

    server: LocalHttpServer
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
            source_ip=self.client_address[0],
        )
        response = self.server.handle_http(request)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            super().log_message(format, *args)


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, handle: Callable[[HttpRequest], HttpResponse], log_requests: bool) -> None:
        super().__init__(("127.0.0.1", port), _RequestHandler)
        self.handle_http = handle
        self.log_requests = log_requests

    @property
    def endpoint_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def start_server(
    port: int, handle: Callable[[HttpRequest], HttpResponse], *, log_requests: bool = False
) -> LocalHttpServer:
    """Serve `handle` on 127.0.0.1:`port` (0: any free port) in a daemon thread."""
    server = LocalHttpServer(port, handle, log_requests)
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
