"""`healthscore local ...`: developer commands for running the service on this machine."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import get_args

from botocore.credentials import EnvProvider, ReadOnlyCredentials

from healthscore.api.routes import IAM_PREFIX, JWT_PREFIX
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
from healthscore_dev.local.lambda_context import LOCAL_ACCOUNT, LOCAL_REGION, use_local_powertools
from healthscore_dev.local.portal_server import start_portal
from healthscore_dev.local.serve_state import (
    STATE_FILE,
    ServeState,
    remove_state,
    state_path,
    wait_for_state,
    write_state,
)
from healthscore_dev.local.sigv4 import IamCaller, SigV4Verifier
from healthscore_dev.local.sqs_server import start_local_sqs
from healthscore_dev.local.template_settings import load_template, queue_settings

DEFAULT_PORT = 3000
PORT_ENV = "HEALTHSCORE_LOCAL_PORT"  # local serve's default port instead of 3000 (0: any free one)
URL_WAIT_SECONDS = 60  # `local url` waits this long for a server still starting (migrating the database)
DEFAULT_PORTAL_PORT = 3001  # any free one when the API's port is 0
STOP_WAIT_SECONDS = 30  # how long stopping waits for a scorer batch or a fan-out under way
FANOUT_FUNCTION = "FanoutFunction"  # the template's logical id stands in for the deployed name
DEFAULT_IAM_ROLE = "healthscore-local-caller"
DEFAULT_IAM_SESSION = "local"


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
        "scoring queue the scorer consumes. The AWS_IAM routes (/iam/...) verify SigV4 signatures made with the "
        "AWS credentials in this command's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; "
        "local/local without them) and present the caller as API Gateway does: "
        "arn:aws:sts::000000000000:assumed-role/ROLE/SESSION.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}, or {PORT_ENV}; 0: any free port)",
    )
    parser.add_argument(
        "--portal-port",
        type=int,
        default=None,
        help=f"port on 127.0.0.1 of the reference portal (portal/), another origin (default {DEFAULT_PORTAL_PORT}; "
        "any free one when the API's port is 0)",
    )
    parser.add_argument(
        "--portal-origin",
        help="the template's PortalOrigin: the origin CORS allows (default: the served portal's, "
        "http://127.0.0.1:PORTAL_PORT); give another to call from a portal served elsewhere",
    )
    parser.add_argument(
        "--iam-role",
        default=os.environ.get("HEALTHSCORE_LOCAL_IAM_ROLE", DEFAULT_IAM_ROLE),
        help="the role a SigV4 caller is presented as (default $HEALTHSCORE_LOCAL_IAM_ROLE, else "
        f"{DEFAULT_IAM_ROLE}); IAM_ROLE_MAP gives it its roles (unset: PLATFORM_ADMIN for this role)",
    )
    parser.add_argument(
        "--iam-session",
        default=os.environ.get("HEALTHSCORE_LOCAL_IAM_SESSION", DEFAULT_IAM_SESSION),
        help=f"the session name of that role (default $HEALTHSCORE_LOCAL_IAM_SESSION, else {DEFAULT_IAM_SESSION})",
    )
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, then stop everything started here: servers, moto, the embedded database."""
    use_local_powertools()
    os.environ.update(local_auth_environment())  # before the authorizer loads: it trusts the development key
    # SIGTERM (kill, a supervisor, a test) unwinds like Ctrl-C: without this, Python dies at once and
    # leaves the moto server and the embedded PostgreSQL running. SIGINT too, explicitly: a process started
    # in the background of a shell script inherits SIGINT ignored, and Python then keeps it ignored, so an
    # IDE's stop button or a process manager (SIGINT to this pid alone) would leave everything running.
    for name in (signal.SIGTERM, signal.SIGINT):
        signal.signal(name, signal.default_int_handler)
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
    portal_port = args.portal_port if args.portal_port is not None else (0 if port == 0 else DEFAULT_PORTAL_PORT)
    with connect(use_local_database()) as conn:
        migrate(conn)
    template = load_template()
    iam = iam_verifier(IamCaller(LOCAL_ACCOUNT, args.iam_role, args.iam_session))  # before SQS replaces the keys
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
    try:
        portal = start_portal(portal_port)
    except OSError as exc:
        return _cannot_listen(portal_port, exc)
    stoppers.append(portal.stop)
    gateway = LocalApiGateway(
        template_api_routes(template, parameters={"PortalOrigin": args.portal_origin or portal.origin}),
        api=LocalFunction("ApiFunction", load_handler("api").lambda_handler),
        authorizer=LocalFunction("AuthorizerFunction", load_handler("authorizer").lambda_handler),
        iam=iam,
    )
    try:
        server = start_server(port, gateway.handle, log_requests=True)
    except OSError as exc:
        return _cannot_listen(port, exc)
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
        portal_url=f"{portal.origin}/#api={server.endpoint_url + JWT_PREFIX}",
        sqs_endpoint=queues.endpoint_url,
        scoring_queue_url=queues.scoring_queue_url,
        dead_letter_queue_url=queues.dead_letter_queue_url,
    )
    write_state(state)
    stoppers.insert(0, lambda: remove_state(state.pid))  # removed last: once it is gone, all has stopped
    _print_usage(server.endpoint_url, queues.endpoint_url, iam, state.portal_url)
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
    parser.add_argument("--portal", action="store_true", help="print the reference portal's URL instead")
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
    print(state.portal_url if args.portal else state.api_url)
    return 0


def _cannot_listen(port: int, exc: OSError) -> int:
    print(f"healthscore local serve: cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
    return 1


def iam_verifier(caller: IamCaller) -> SigV4Verifier:
    """The SigV4 check of the /iam/... routes: the environment's key pair (local/local without one) and region.

    With IAM_ROLE_MAP unset, the caller's role (any session) gets PLATFORM_ADMIN, so that a signed call works
    out of the box; a set IAM_ROLE_MAP is used as it is, as in AWS.
    """
    credentials = EnvProvider().load()
    frozen = credentials.get_frozen_credentials() if credentials else ReadOnlyCredentials("local", "local", None)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or LOCAL_REGION
    if not os.environ.get("IAM_ROLE_MAP"):
        os.environ["IAM_ROLE_MAP"] = json.dumps({caller.arn.rsplit("/", 1)[0]: ["PLATFORM_ADMIN"]})
    return SigV4Verifier(frozen, region, caller)


def _print_usage(endpoint: str, sqs_endpoint: str, iam: SigV4Verifier, portal_url: str) -> None:
    base_url = endpoint + JWT_PREFIX
    local_keys = iam.credentials.access_key == "local"
    keys = "the local key pair local/local" if local_keys else "the AWS credentials of this environment"
    signing = "AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local " if local_keys else ""
    print(
        f"""healthscore API on {base_url}
  TOKEN=$(healthscore local token --role CLIENT_SUCCESS)   # or --role PLATFORM_ADMIN for POST /calculate-all
  curl -H "Authorization: Bearer $TOKEN" '{base_url}/scores?limit=5'
Portal: {portal_url}   (sign in with a token from `healthscore local token --role PLATFORM_ADMIN`)
OpenAPI: {base_url}/openapi.json, Swagger UI: {base_url}/swagger (both need the token, as in AWS: the portal's
"API docs (Swagger UI)" button opens it with the token)
The scorer consumes the local scoring queue (SQS endpoint {sqs_endpoint}); `healthscore dlq list|replay|purge`
use these queues while this runs, with nothing to export. POST /calculate-all reaches the fan-out
through a local Lambda endpoint.
Machine callers: {endpoint}{IAM_PREFIX}, signed with SigV4 (service execute-api, region {iam.region}) by {keys};
the caller is {iam.caller.arn}, its roles from IAM_ROLE_MAP={os.environ["IAM_ROLE_MAP"]}
  {signing}healthscore api call --sigv4 GET '{endpoint}{IAM_PREFIX}/scores?limit=5'
Ctrl-C, or SIGINT or SIGTERM to its pid, stops it all.""",
        flush=True,
    )
