"""`healthscore profiles list | show ID | apply FILE.json | preview FILE.json | restate ID --days N`.

The commands work on DATABASE_URL (the embedded database without it) through the API's own use
cases, so a file is validated, saved and previewed exactly as PUT and POST .../preview would.
A profile file is a profile with its `profileId`, e.g. events/profile_onboarding.json. `restate`
goes, as POST .../restate does, through a scoring queue (a local one) and the scorer handler.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from healthscore.api import profile_service, service
from healthscore.api.problems import BadBodyError, ResourceNotFoundError
from healthscore.core.profiles import PROFILE_ID_PATTERN, ProfileDocument
from healthscore.dal.connection import connect
from healthscore.logic.run_guard import RunInProgressError
from healthscore.models.api import RestateRequest
from healthscore.models.messages import RESTATE_MAX_DAYS
from healthscore_dev.local.embedded_db import use_local_database
from healthscore_dev.local.event_source import LocalEventSource
from healthscore_dev.local.lambda_context import use_local_powertools
from healthscore_dev.local.pipeline import queue_is_empty
from healthscore_dev.local.sqs_server import start_local_sqs
from healthscore_dev.local.template_settings import queue_settings


class ProfileFileError(ValueError):
    """A profile file that cannot be used; the message names the file and the field."""


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("profiles", help="scoring profiles: list, show, apply, preview, restate")
    sub = group.add_subparsers(required=True)
    listing = sub.add_parser("list", help="the active version of every profile")
    listing.add_argument("--json", action="store_true", help="as JSON, like GET /profiles")
    listing.set_defaults(handler=run_list)
    show = sub.add_parser("show", help="one profile's active version, as JSON")
    show.add_argument("profile_id", metavar="ID")
    show.set_defaults(handler=run_show)
    apply = sub.add_parser("apply", help="save FILE.json as its profile's new version (what PUT does)")
    apply.add_argument("file", type=Path, metavar="FILE.json")
    apply.set_defaults(handler=run_apply)
    preview = sub.add_parser("preview", help="what FILE.json would do to the fleet's latest scores; writes nothing")
    preview.add_argument("file", type=Path, metavar="FILE.json")
    preview.add_argument("--json", action="store_true", help="as JSON, like POST /profiles/{profileId}/preview")
    preview.set_defaults(handler=run_preview)
    restate = sub.add_parser(
        "restate", help="restate the last N days of the profile's tenants under its active version (what POST does)"
    )
    restate.add_argument("profile_id", metavar="PROFILE_ID")
    restate.add_argument(
        "--days", type=int, required=True, help=f"days ending today (UTC) to restate, 1-{RESTATE_MAX_DAYS}"
    )
    restate.set_defaults(handler=run_restate)


def read_profile_file(path: Path) -> tuple[str, ProfileDocument]:
    """The file's profileId and the rest of it, validated as a PUT body."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ProfileFileError(f"{path}: {exc}") from None
    if not isinstance(document, dict):
        raise ProfileFileError(f"{path}: a profile is a JSON object")
    profile_id = document.pop("profileId", None)
    document.pop("version", None)  # a file written from `profiles show` carries it; the database numbers versions
    if profile_id is None:
        raise ProfileFileError(f'{path}: profileId is missing: a profile file names its profile ("profileId": "...")')
    if not isinstance(profile_id, str) or not re.fullmatch(PROFILE_ID_PATTERN, profile_id):
        raise ProfileFileError(f"{path}: profileId: must be a slug matching {PROFILE_ID_PATTERN}")
    try:
        return profile_id, ProfileDocument.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'profile'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise ProfileFileError(f"{path}: {problems}") from None


def _dump(model: Any) -> str:
    return json.dumps(model.model_dump(mode="json", by_alias=True), indent=2)


def run_list(args: argparse.Namespace) -> int:
    with connect(use_local_database()) as conn:
        listed = profile_service.list_profiles(conn)
    if args.json:
        print(_dump(listed))
        return 0
    print(f"{'profile':<24} {'version':>7} {'priority':>8}  {'missingData':<11}  segment")
    for p in listed.items:
        segment = json.dumps(p.segment.model_dump(mode="json", by_alias=True, exclude_none=True))
        print(f"{p.profile_id:<24} {p.version:>7} {p.priority:>8}  {p.missing_data:<11}  {segment}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    with connect(use_local_database()) as conn:
        listed = profile_service.list_profiles(conn)
    found = next((p for p in listed.items if p.profile_id == args.profile_id), None)
    if found is None:
        print(f"healthscore profiles show: no active profile {args.profile_id}")
        return 1
    print(_dump(found))
    return 0


def run_apply(args: argparse.Namespace) -> int:
    try:
        profile_id, document = read_profile_file(args.file)
        with connect(use_local_database()) as conn:
            saved = profile_service.save_profile(conn, profile_id, document, f"cli:{getpass.getuser()}")
    except (ProfileFileError, BadBodyError) as exc:
        print(f"healthscore profiles apply: {exc}")
        return 1
    print(f"saved {saved.profile_id} version {saved.version}; the scorer applies it within 60 s")
    return 0


def run_preview(args: argparse.Namespace) -> int:
    try:
        profile_id, document = read_profile_file(args.file)
        with connect(use_local_database()) as conn:
            result = profile_service.preview_profile(conn, profile_id, document)
    except (ProfileFileError, BadBodyError) as exc:
        print(f"healthscore profiles preview: {exc}")
        return 1
    if args.json:
        print(_dump(result))
        return 0
    print(f"{profile_id}: {result.tenants} tenant(s) would be scored by it, {result.changed} with a new overall score")
    for risk_from, targets in sorted(result.risk_transitions.items()):
        moves = ", ".join(f"{risk_to} {count}" for risk_to, count in sorted(targets.items()))
        print(f"  from {risk_from:<6} -> {moves}")
    if result.movers:
        print(f"{'organization':<40} {'from':>4} {'to':>4}  risk")
        for m in result.movers:
            print(f"{m.organization_name[:40]:<40} {m.score_from:>4} {m.score_to:>4}  {m.risk_from} -> {m.risk_to}")
    return 0


def run_restate(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= RESTATE_MAX_DAYS:
        print(f"healthscore profiles restate: --days must be between 1 and {RESTATE_MAX_DAYS}, got {args.days}")
        return 1
    use_local_powertools()
    started = time.perf_counter()
    settings = queue_settings()
    queues = start_local_sqs(settings)  # before the settings are first read: they name its queue
    today = datetime.now(UTC).date()
    days = RestateRequest.model_validate({"from": today - timedelta(days=args.days - 1), "to": today})
    try:
        with connect(use_local_database()) as conn:
            try:
                run = profile_service.restate_profile(conn, args.profile_id, days, today)
            except (ResourceNotFoundError, RunInProgressError) as exc:
                print(f"healthscore profiles restate: {exc}")
                return 1
            source = LocalEventSource.for_scorer(
                queues.scoring_queue_url, settings.batch_size, settings.max_concurrency
            )
            source.run(until=lambda: queue_is_empty(queues.scoring_queue_url))
            progress = service.run_progress(conn, run.run_id)
    finally:
        queues.stop()
    print(
        f"{run.profile_id} version {run.profile_version}: {progress.scored} of {run.tenants} tenant(s) restated"
        f" from {days.first_day} to {days.last_day} in {time.perf_counter() - started:.1f} s (run {run.run_id})"
    )
    return 0 if progress.complete and not progress.failed else 1
