"""`healthscore`: the operator's and developer's command (README: the healthscore command)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import psycopg
from botocore.exceptions import BotoCoreError, ClientError

from healthscore.config import ConfigError
from healthscore_dev.cli import api, bench, db, dlq, local, profiles, run, seed

COMMAND_GROUPS = (db, seed, run, dlq, local, api, profiles, bench)


class CommandParser(argparse.ArgumentParser):
    """Refuses an unknown argument with the usage of the (sub)command it was given to.

    argparse hands a subcommand's unknown arguments up to the top-level parser, whose usage says nothing
    about them; add_parser and add_subparsers create every subcommand's parser of this class.
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, unknown = super().parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}")
        return parsed, unknown


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="healthscore", description="Client health scoring service")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"healthscore: {exc}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        print(f"healthscore: cannot reach the database: {exc}".rstrip(), file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"healthscore: AWS call failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("healthscore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
