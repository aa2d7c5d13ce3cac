"""`healthscore api openapi [--output FILE]`: the API's OpenAPI document, as checked in."""

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


def run_openapi(args: argparse.Namespace) -> int:
    from healthscore.api.resolver import openapi_json  # the API's imports only when asked

    document = openapi_json()
    if args.output is None:
        sys.stdout.write(document)
    else:
        args.output.write_text(document, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
