"""`healthscore dlq list|replay|purge`: the operator's dead-letter commands.

They work against AWS, or against the local endpoint when AWS_ENDPOINT_URL (or
AWS_ENDPOINT_URL_SQS) is set, with DEAD_LETTER_QUEUE_URL and SCORING_QUEUE_URL.
Without DEAD_LETTER_QUEUE_URL, they use the queues of the `healthscore local serve`
running from this folder, if one is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from healthscore.config import ConfigError, Settings, get_settings
from healthscore.logic.dead_letters import (
    DeadLetter,
    ReplayFilter,
    list_dead_letters,
    purge_dead_letters,
    replay_dead_letters,
)
from healthscore_dev.local.serve_state import running_state
from healthscore_dev.local.sqs_server import use_local_credentials

# SQS's error code for a second purge within 60 s (the JSON protocol's long form, and the query protocol's).
PURGE_IN_PROGRESS = frozenset({"AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress"})


def register(commands: argparse._SubParsersAction) -> None:
    dlq = commands.add_parser("dlq", help="inspect, replay or purge the dead-letter queue")
    actions = dlq.add_subparsers(required=True)

    listing = actions.add_parser(
        "list",
        help="the messages in the dead-letter queue (each list raises their receive count)",
        description="Lists the dead-letter queue. SQS has no peek: each list receives every message once, which "
        "raises its receive count by one (the count shown includes this list's receive).",
    )
    listing.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    listing.set_defaults(handler=run_list)

    replay = actions.add_parser("replay", help="move messages back to the scoring queue (all, or filtered)")
    replay.add_argument("--tenant", type=organization_id, help="only this organization id (a UUID)")
    replay.add_argument("--type", choices=["calculate-score", "record-metrics"], help="only this message type")
    replay.add_argument("--reason", help="only messages whose reason contains this text")
    replay.add_argument("--max", type=int, default=None, help="replay at most this many")
    replay.add_argument("--now", action="store_true", help="score as of now instead of the original asOf")
    replay.add_argument("--dry-run", action="store_true", help="show what would be replayed; move nothing")
    replay.set_defaults(handler=run_replay)

    purge = actions.add_parser("purge", help="delete every message of the dead-letter queue")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(handler=run_purge)


def queue_settings() -> Settings:
    """The settings naming the queues: the environment's, or else those of a running `local serve`."""
    if os.environ.get("DEAD_LETTER_QUEUE_URL"):
        return get_settings()
    local = running_state()
    if local is None:
        raise ConfigError(
            "DEAD_LETTER_QUEUE_URL must be set (the stack's output, with SCORING_QUEUE_URL), or a "
            "`healthscore local serve` be running from this folder: its local queues are used then"
        )
    use_local_credentials(local.sqs_endpoint)  # this process only: dummy credentials for moto
    os.environ["DEAD_LETTER_QUEUE_URL"] = local.dead_letter_queue_url
    os.environ["SCORING_QUEUE_URL"] = local.scoring_queue_url
    get_settings.cache_clear()
    print(f"(the queues of `healthscore local serve`, pid {local.pid}, at {local.sqs_endpoint})", file=sys.stderr)
    return get_settings()


def organization_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an organization id (a UUID): {text!r}") from None


def _table(letters: list[DeadLetter]) -> str:
    now = datetime.now(UTC)
    lines = [f"{'message id':<38}{'organization':<38}{'type':<17}{'recv':>5}{'age':>9}  reason"]
    for letter in letters:
        lines.append(
            f"{letter.message_id:<38}{letter.organization_id or '-':<38}{letter.type or '-':<17}"
            f"{letter.receive_count:>5}{_age(letter.age_seconds(now)):>9}  {letter.reason}"
        )
    return "\n".join(lines)


def _age(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def run_list(args: argparse.Namespace) -> int:
    letters = list_dead_letters(queue_settings().required("DEAD_LETTER_QUEUE_URL"))
    if args.json:
        now = datetime.now(UTC)
        print(json.dumps({"count": len(letters), "messages": [letter.summary(now) for letter in letters]}, indent=2))
    else:
        print(_table(letters) if letters else "the dead-letter queue is empty")
    return 0


def run_replay(args: argparse.Namespace) -> int:
    if args.max is not None and args.max < 1:
        print("healthscore dlq replay: --max must be at least 1", file=sys.stderr)
        return 2
    settings = queue_settings()
    report = replay_dead_letters(
        settings.required("DEAD_LETTER_QUEUE_URL"),
        settings.required("SCORING_QUEUE_URL"),
        ReplayFilter(organization_id=args.tenant, type=args.type, reason=args.reason),
        max_messages=args.max,
        dry_run=args.dry_run,
        as_of_now=args.now,
    )
    verb = "would replay" if args.dry_run else "replayed"
    if report.replayed:
        print(_table(report.replayed))
    print(f"{verb} {len(report.replayed)} message(s); {report.left} left in the dead-letter queue")
    if report.skipped_poison:
        print(f"{len(report.skipped_poison)} matching poison message(s) kept: their body can never be scored")
    return 0


def run_purge(args: argparse.Namespace) -> int:
    queue_url = queue_settings().required("DEAD_LETTER_QUEUE_URL")
    if not args.yes:
        if not sys.stdin.isatty():
            print("healthscore dlq purge: refusing without --yes (no terminal to confirm on)", file=sys.stderr)
            return 2
        answer = input(f"Delete every message of {queue_url}? Type 'purge' to confirm: ")
        if answer.strip() != "purge":
            print("nothing deleted")
            return 1
    try:
        purge_dead_letters(queue_url)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in PURGE_IN_PROGRESS:
            raise
        print(
            f"healthscore dlq purge: {queue_url} was purged less than 60 s ago; SQS allows one purge a minute "
            "(the first one is still deleting): wait 60 s and run it again",
            file=sys.stderr,
        )
        return 1
    print(f"purged {queue_url}")
    return 0
