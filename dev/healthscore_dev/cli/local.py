"""`healthscore local ...`: developer commands for running the service on this machine."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import get_args

from healthscore.api.routes import JWT_PREFIX
from healthscore.aws.clients import reset_clients
from healthscore.config import ConfigError, Role, get_settings
from healthscore.dal.connection import connect
from healthscore.dal.migrate import migrate
from healthscore_dev.local.dev_keys import DevKeyError, local_auth_environment, mint_token
from healthscore_dev.local.embedded_db import stop_embedded_servers, use_local_database
from healthscore_dev.local.event_source import LocalEventSource
from healthscore_dev.local.handlers import load_handler
from healthscore_dev.local.http_server import (
    LambdaInvokeApi,
    LocalApiGateway,
    LocalFunction,
    start_server,
    template_api_routes,
)
from healthscore_dev.local.lambda_context import use_local_powertools
from healthscore_dev.local.serve_state import (
    STATE_FILE,
    ServeState,
    remove_state,
    state_path,
    wait_for_state,
    write_state,
)
from healthscore_dev.local.sqs_server import start_local_sqs
from healthscore_dev.local.template_settings import load_template, queue_settings

DEFAULT_PORT = 3000
PORT_ENV = "HEALTHSCORE_LOCAL_PORT"  # local serve's default port instead of 3000 (0: any free one)
URL_WAIT_SECONDS = 60  # `local url` waits this long for a server still starting (migrating the database)
STOP_WAIT_SECONDS = 30  # how long stopping waits for a scorer batch or a fan-out under way
# The template's PortalOrigin locally (samconfig's local profile): a dev server of the portal.
DEFAULT_PORTAL_ORIGIN = "http://localhost:5173"
FANOUT_FUNCTION = "FanoutFunction"  # the template's logical id stands in for the deployed name


def register(commands: argparse._SubParsersAction) -> None:
    local_commands = commands.add_parser("local", help="run the service locally").add_subparsers(
        dest="local_command", required=True, metavar="COMMAND"
    )
    _register_token(local_commands)
    _register_serve(local_commands)
    _register_url(local_commands)


def _register_token(local_commands: argparse._SubParsersAction) -> None:
    parser = local_commands.add_parser("token", help="print a bearer token the local server accepts")
    parser.add_argument(
        "--role",
        default="CLIENT_SUCCESS",
        choices=get_args(Role),
        help="CLIENT_SUCCESS (default) or PLATFORM_ADMIN: the roles the service knows (it refuses a token without one)",
    )
    parser.set_defaults(handler=run_token)


def run_token(args: argparse.Namespace) -> int:
    try:
        token = mint_token(args.role)
    except DevKeyError as exc:
        print(f"healthscore local token: {exc}", file=sys.stderr)
        return 1
    # Only the token, so that TOKEN=$(healthscore local token) works.
    print(token)
    return 0


def _register_serve(local_commands: argparse._SubParsersAction) -> None:
    parser = local_commands.add_parser(
        "serve",
        help="the HTTP API on 127.0.0.1, through the authorizer, as API Gateway serves it",
        description="Serves the template's JWT routes on 127.0.0.1: each request becomes an API Gateway v2 event, "
        "runs the real authorizer (trusting the local development key of `healthscore local token`) and then the "
        "api handler, on the embedded PostgreSQL (unless DATABASE_URL is set) and a local SQS endpoint whose "
        "scoring queue the scorer consumes. AWS_IAM routes are not served (SigV4 is not emulated).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}, or {PORT_ENV}; 0: any free port)",
    )
    parser.add_argument(
        "--portal-origin",
        default=DEFAULT_PORTAL_ORIGIN,
        help=f"the template's PortalOrigin: the origin CORS allows (default {DEFAULT_PORTAL_ORIGIN})",
    )
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, then stop everything started here: servers, moto, the embedded database."""
    use_local_powertools()
    os.environ.update(local_auth_environment())  # before the authorizer loads: it trusts the development key
    # SIGTERM (kill, a supervisor, a test) unwinds like Ctrl-C: without this, Python dies at once and
    # leaves the moto server and the embedded PostgreSQL running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    stoppers: list[Callable[[], None]] = [stop_embedded_servers]
    try:
        return _serve(args, stoppers)
    except KeyboardInterrupt:
        return 0
    finally:
        for name in (signal.SIGTERM, signal.SIGINT):  # a second signal must not cut the clean-up short
            signal.signal(name, signal.SIG_IGN)
        for stop in reversed(stoppers):
            stop()


def default_port() -> int:
    text = os.environ.get(PORT_ENV) or str(DEFAULT_PORT)
    if not text.isdigit() or int(text) > 65535:
        raise ConfigError(f"{PORT_ENV} must be a port number (0-65535; 0: any free port), got {text!r}")
    return int(text)


def _serve(args: argparse.Namespace, stoppers: list[Callable[[], None]]) -> int:
    port = default_port() if args.port is None else args.port
    with connect(use_local_database()) as conn:
        migrate(conn)
    template = load_template()
    queues = start_local_sqs(queue_settings(template))
    stoppers.append(queues.stop)
    # POST /calculate-all invokes the fan-out with boto3, as in AWS; a local Lambda endpoint receives it.
    invoke_api = LambdaInvokeApi(
        {FANOUT_FUNCTION: LocalFunction(FANOUT_FUNCTION, load_handler("fanout").lambda_handler)}
    )
    lambda_endpoint = start_server(0, invoke_api.handle)
    stoppers.append(lambda_endpoint.stop)
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = lambda_endpoint.endpoint_url
    os.environ["FANOUT_FUNCTION_NAME"] = FANOUT_FUNCTION
    get_settings.cache_clear()
    reset_clients()
    gateway = LocalApiGateway(
        template_api_routes(template, parameters={"PortalOrigin": args.portal_origin}),
        api=LocalFunction("ApiFunction", load_handler("api").lambda_handler),
        authorizer=LocalFunction("AuthorizerFunction", load_handler("authorizer").lambda_handler),
    )
    try:
        server = start_server(port, gateway.handle, log_requests=True)
    except OSError as exc:
        print(f"healthscore local serve: cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    stoppers.append(lambda: invoke_api.join(STOP_WAIT_SECONDS))  # a fan-out under way finishes enqueuing
    stoppers.append(server.stop)
    stop = threading.Event()
    scorer = LocalEventSource.for_scorer(
        queues.scoring_queue_url, queues.settings.batch_size, queues.settings.max_concurrency
    )
    polling = threading.Thread(target=scorer.run, args=(stop.is_set,), name="scorer-event-source", daemon=True)
    polling.start()

    def stop_scorer() -> None:  # its batches in flight finish before the queue goes away
        stop.set()
        polling.join(STOP_WAIT_SECONDS)

    stoppers.append(stop_scorer)
    state = ServeState(
        pid=os.getpid(),
        api_url=server.endpoint_url + JWT_PREFIX,
        sqs_endpoint=queues.endpoint_url,
        scoring_queue_url=queues.scoring_queue_url,
        dead_letter_queue_url=queues.dead_letter_queue_url,
    )
    write_state(state)
    stoppers.insert(0, lambda: remove_state(state.pid))  # removed last: once it is gone, all has stopped
    _print_usage(state.api_url, queues.endpoint_url)
    stop.wait()
    return 0


def _register_url(local_commands: argparse._SubParsersAction) -> None:
    parser = local_commands.add_parser(
        "url",
        help="print the base URL of the running `healthscore local serve` (waits for one starting)",
        description="Prints only the base URL of the JWT routes of the `healthscore local serve` running from this "
        f"folder (its {STATE_FILE} in the local folder), so that B=$(healthscore local url) works; waits for a "
        "server still starting.",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=URL_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"how long to wait for a server to start (default {URL_WAIT_SECONDS})",
    )
    parser.set_defaults(handler=run_url)


def run_url(args: argparse.Namespace) -> int:
    state = wait_for_state(args.wait)
    if state is None:
        print(
            f"healthscore local url: no `healthscore local serve` is running from this folder ({state_path()} "
            f"names none after {args.wait:g} s); start one with: healthscore local serve &",
            file=sys.stderr,
        )
        return 1
    print(state.api_url)
    return 0


def _print_usage(base_url: str, sqs_endpoint: str) -> None:
    print(
        f"""healthscore API on {base_url}
  TOKEN=$(healthscore local token --role CLIENT_SUCCESS)   # or --role PLATFORM_ADMIN for POST /calculate-all
  curl -H "Authorization: Bearer $TOKEN" '{base_url}/scores?limit=5'
OpenAPI: {base_url}/openapi.json, Swagger UI: {base_url}/swagger (both need the token, as in AWS)
The scorer consumes the local scoring queue (SQS endpoint {sqs_endpoint}); `healthscore dlq list|replay|purge`
use these queues while this runs, with nothing to export. POST /calculate-all reaches the fan-out
through a local Lambda endpoint. Not served: the AWS_IAM routes (/iam/...), since SigV4 signing is not emulated.
Ctrl-C (or SIGTERM) stops it all.""",
        flush=True,
    )
