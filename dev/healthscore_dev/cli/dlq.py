"""`healthscore dlq list|replay|purge`: the operator's dead-letter commands.

They work against AWS, or against the local endpoint when AWS_ENDPOINT_URL (or
AWS_ENDPOINT_URL_SQS) is set, with DEAD_LETTER_QUEUE_URL and SCORING_QUEUE_URL.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from healthscore.config import get_settings
from healthscore.logic.dead_letters import (
    DeadLetter,
    ReplayFilter,
    list_dead_letters,
    purge_dead_letters,
    replay_dead_letters,
)


def register(commands: argparse._SubParsersAction) -> None:
    dlq = commands.add_parser("dlq", help="inspect, replay or purge the dead-letter queue")
    actions = dlq.add_subparsers(dest="dlq_command", required=True)

    listing = actions.add_parser("list", help="the messages in the dead-letter queue")
    listing.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    listing.set_defaults(handler=run_list)

    replay = actions.add_parser("replay", help="move messages back to the scoring queue (all, or filtered)")
    replay.add_argument("--tenant", help="only this organization id")
    replay.add_argument("--type", choices=["calculate-score", "record-metrics"], help="only this message type")
    replay.add_argument("--reason", help="only messages whose reason contains this text")
    replay.add_argument("--max", type=int, default=None, help="replay at most this many")
    replay.add_argument("--now", action="store_true", help="score as of now instead of the original asOf")
    replay.add_argument("--dry-run", action="store_true", help="show what would be replayed; move nothing")
    replay.set_defaults(handler=run_replay)

    purge = actions.add_parser("purge", help="delete every message of the dead-letter queue")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(handler=run_purge)


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
    letters = list_dead_letters(get_settings().required("DEAD_LETTER_QUEUE_URL"))
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
    settings = get_settings()
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
    print(f"{verb} {len(report.replayed)} message(s); {report.not_matched} left in the dead-letter queue")
    if report.skipped_poison:
        print(f"{len(report.skipped_poison)} matching poison message(s) kept: their body can never be scored")
    return 0


def run_purge(args: argparse.Namespace) -> int:
    queue_url = get_settings().required("DEAD_LETTER_QUEUE_URL")
    if not args.yes:
        if not sys.stdin.isatty():
            print("healthscore dlq purge: refusing without --yes (no terminal to confirm on)", file=sys.stderr)
            return 2
        answer = input(f"Delete every message of {queue_url}? Type 'purge' to confirm: ")
        if answer.strip() != "purge":
            print("nothing deleted")
            return 1
    purge_dead_letters(queue_url)
    print(f"purged {queue_url}")
    return 0
