"""`healthscore api openapi [--output FILE]`: the API's OpenAPI document, as checked in.
`healthscore api call [--sigv4 | --token T] METHOD URL [--data JSON]`: one request, signed as a machine caller signs it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    api = commands.add_parser("api", help="the HTTP API").add_subparsers(
        dest="api_command", required=True, metavar="COMMAND"
    )
    parser = api.add_parser("openapi", help="print (or write) the OpenAPI document")
    parser.add_argument("--output", type=Path, help="write it to this file (e.g. openapi.json) instead of stdout")
    parser.set_defaults(handler=run_openapi)
    call = api.add_parser(
        "call",
        help="send one request to the API (SigV4-signed for the /iam/... routes, or with a bearer token)",
        description="Sends METHOD URL and prints the answer's body; the status goes to stderr, and the exit code is "
        "0 for a 2xx answer, 1 otherwise. --sigv4 signs it as a machine caller does (botocore's SigV4, service "
        "execute-api) with the AWS credentials botocore finds (environment, profile, SSO, instance role).",
    )
    call.add_argument("method", help="GET, POST, PUT or DELETE")
    call.add_argument("url", help="the whole URL, e.g. https://API_ID.execute-api.REGION.amazonaws.com/STAGE/iam/...")
    auth = call.add_mutually_exclusive_group()
    auth.add_argument("--sigv4", action="store_true", help="sign with AWS SigV4 (the /iam/... routes)")
    auth.add_argument("--token", help="send Authorization: Bearer TOKEN (the portal's routes)")
    call.add_argument("--data", help="a JSON body (sent with Content-Type: application/json)")
    call.add_argument(
        "--region",
        help="the signing region (default: the URL's execute-api host, else AWS_REGION or AWS_DEFAULT_REGION)",
    )
    call.set_defaults(handler=run_call)


def run_openapi(args: argparse.Namespace) -> int:
    from healthscore.api.resolver import openapi_json  # the API's imports only when asked

    document = openapi_json()
    if args.output is None:
        sys.stdout.write(document)
    else:
        args.output.write_text(document, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def run_call(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    if not args.url.startswith(("http://", "https://")):
        print(f"healthscore api call: {args.url}: not an http(s) URL", file=sys.stderr)
        return 1
    body = args.data.encode() if args.data is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    if args.sigv4:
        try:
            headers = _signed_headers(args.method.upper(), args.url, headers, body, args.region)
        except ValueError as exc:
            print(f"healthscore api call: {exc}", file=sys.stderr)
            return 1
    # The scheme is http(s), checked above.
    request = urllib.request.Request(args.url, data=body, headers=headers, method=args.method.upper())  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            status, payload = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    except urllib.error.URLError as error:
        print(f"healthscore api call: {args.url}: {error.reason}", file=sys.stderr)
        return 1
    print(status, file=sys.stderr)
    sys.stdout.write(payload.decode(errors="replace") + ("\n" if payload and not payload.endswith(b"\n") else ""))
    return 0 if 200 <= status < 300 else 1


def _signed_headers(
    method: str, url: str, headers: dict[str, str], body: bytes | None, region: str | None
) -> dict[str, str]:
    """`headers` plus SigV4's (Authorization, X-Amz-Date, X-Amz-Security-Token) for service execute-api."""
    import os
    import re
    from urllib.parse import urlsplit

    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        raise ValueError("no AWS credentials found (environment, profile or instance role) to sign with")
    host_region = re.fullmatch(r"[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com", urlsplit(url).hostname or "")
    region = (
        region
        or (host_region[1] if host_region else None)
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )
    request = AWSRequest(method=method, url=url, headers=headers, data=body or b"")
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
    return dict(request.headers.items())
