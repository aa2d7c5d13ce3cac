"""The handlers' durations and memory that the cost estimate needs, on the local stack.

    .venv/bin/python bench/local_pipeline.py [--tenants 2000] [--batches 100] [--estimate-tenants 10000]

- fan-out: the fan-out handler invoked once with the schedule's event over every ACTIVE tenant
  of the bench fleet; its time is scaled to 1,000 tenants. Twice:
  1. against the local SQS endpoint (moto), the queue drained concurrently by a receive-and-
     delete consumer in another process (no scoring), sends held while more than 100 messages
     wait, as `healthscore run nightly` does (moto slows down per message as its queue grows;
     AWS SQS does not). `--no-drain`: nothing consumes, the queue grows.
  2. with SendMessageBatch answered in-process (a botocore hook): the handler's own cost
     (database pages, messages, boto3 serialization and signing) without any service time.
- scorer: the scorer handler alone, SQS-free: events built with `sqs_event` from messages of
  the real shape, batches of the template's BatchSize, for both message types. The first
  invocation (it opens the database connection) is shown apart from the steady ones.

Each handler runs in a process of its own, so that its peak RSS (getrusage) is its own.
Then the cost of one nightly run (record-metrics and calculate-scores) is estimated from
these durations and the template's memory sizes. A laptop's duration is only an estimate of
Lambda's: arm64 Lambda at 512 MB gets a fraction of a vCPU, and the database is across a network.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import subprocess
import sys
import time
import uuid
from typing import Any

from benchlib import (
    BENCH_AS_OF,
    active_ids,
    batches_of,
    bench_database,
    parser,
    peak_rss_mb,
    print_table,
    quiet_powertools,
    summary_ms,
)

from healthscore.dal.connection import connect
from healthscore.models.messages import MessageType
from healthscore_dev.bench.scorer_run import DUMMY_QUEUE_URL, sqs_message
from healthscore_dev.local.template_settings import QueueSettings, load_template, queue_settings

BATCH_SIZE = 10  # replaced by the template's BatchSize in main(); children get it as --batch-size
DRAIN_IDLE_SECONDS = 20
HIGH_WATER = 100  # what the local pipeline allows at its default concurrency: 2 x 5 x 10

# List prices, us-east-1, arm64 (USD). Free tiers: Lambda 1M requests and 400,000 GB-s a month,
# SQS 1M requests a month, EventBridge Scheduler 14M invocations a month.
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
SQS_REQUEST = 0.40 / 1_000_000
SCHEDULER_INVOCATION = 1.00 / 1_000_000
NIGHTLY_JOBS: tuple[MessageType, ...] = ("record-metrics", "calculate-score")


# ----------------------------------------------------------------------------- child: fan-out
def run_fanout(mode: str, settings: QueueSettings) -> dict[str, Any]:
    """One fan-out invocation. mode: "drain" or "no-drain" (moto), or "stub" (SQS answered in-process)."""
    from healthscore.aws.clients import reset_clients, sqs_client
    from healthscore_dev.local.handlers import load_handler
    from healthscore_dev.local.lambda_context import LocalLambdaContext
    from healthscore_dev.local.pipeline import hold_sends_while_backlogged
    from healthscore_dev.local.sqs_server import start_local_sqs, use_local_credentials

    if mode == "stub":
        use_local_credentials("http://127.0.0.1:9")  # never contacted: every call is answered below
        os.environ["SCORING_QUEUE_URL"] = DUMMY_QUEUE_URL
        sqs_client().meta.events.register("before-send.sqs.SendMessageBatch", answer_send_message_batch)
    else:
        start_local_sqs(settings)  # moto in its own process; SCORING_QUEUE_URL etc. set in os.environ
        reset_clients()  # a fresh client for the handler, not the one that created the queues
    with connect() as conn:
        tenants = len(active_ids(conn))
    drainer = None
    if mode == "drain":
        drainer = subprocess.Popen(
            [sys.executable, __file__, "--role", "drain", "--expect", str(tenants)],
            stdout=subprocess.PIPE,
            text=True,
        )
        # As `healthscore run nightly` does: sends wait while more than HIGH_WATER messages are queued.
        hold_sends_while_backlogged(os.environ["SCORING_QUEUE_URL"], HIGH_WATER)
    started = time.perf_counter()
    handler = load_handler("fanout").lambda_handler
    init = time.perf_counter() - started
    event = {"job": "calculate-scores", "asOf": BENCH_AS_OF.isoformat(), "runId": "bench-fanout"}
    context = LocalLambdaContext("FanoutFunction", timeout_seconds=300)
    started = time.perf_counter()
    answer = handler(event, context)
    seconds = time.perf_counter() - started
    drained = None
    if drainer is not None:
        out, _ = drainer.communicate(timeout=600)
        drained = int(out.strip() or 0)
    return {
        "mode": mode,
        "tenants": answer["tenantCount"],
        "init_ms": init * 1000,
        "seconds": seconds,
        "drained": drained,
        "rss_peak_mb": peak_rss_mb(),
    }


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def answer_send_message_batch(request: Any, **_: Any) -> Any:
    """SendMessageBatch answered in-process: every entry accepted, no network, no service time."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    entries = json.loads(request.body)["Entries"]
    successful = [
        {
            "Id": entry["Id"],
            "MessageId": str(uuid.uuid4()),
            "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),
        }
        for entry in entries
    ]
    body = json.dumps({"Successful": successful, "Failed": []}).encode()
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.0"
    headers["x-amzn-RequestId"] = str(uuid.uuid4())
    return AWSResponse(request.url, 200, headers, _Body(body))


def run_drain(expect: int) -> int:
    """Receive and delete (no scoring) until `expect` messages are gone, or the queue stays empty a while."""
    from healthscore.aws.clients import sqs_client

    sqs = sqs_client()
    queue_url = os.environ["SCORING_QUEUE_URL"]
    deleted = 0
    idle_since = time.monotonic()
    while deleted < expect and time.monotonic() - idle_since < DRAIN_IDLE_SECONDS:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if not messages:
            continue
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        deleted += len(messages)
        idle_since = time.monotonic()
    return deleted


# ----------------------------------------------------------------------------- child: scorer
def run_scorer(job: MessageType, batches: int) -> dict[str, Any]:
    from healthscore_dev.local.event_source import sqs_event
    from healthscore_dev.local.handlers import load_handler
    from healthscore_dev.local.lambda_context import LocalLambdaContext

    os.environ["DEAD_LETTER_QUEUE_URL"] = DUMMY_QUEUE_URL.replace("scoring", "scoring-dlq")
    with connect() as conn:
        ids = batches_of(active_ids(conn), BATCH_SIZE, batches + 1)
    events = [
        sqs_event(
            [sqs_message(org_id, BENCH_AS_OF.isoformat(), job, f"bench-{job}") for org_id in batch], DUMMY_QUEUE_URL
        )
        for batch in ids
    ]
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    handler = load_handler("scorer").lambda_handler
    init = time.perf_counter() - started
    rss_imported = peak_rss_mb()
    seconds: list[float] = []
    failures = 0
    for event in events:
        context = LocalLambdaContext("ScorerFunction", timeout_seconds=60)
        started = time.perf_counter()
        answer = handler(event, context)
        seconds.append(time.perf_counter() - started)
        failures += len(answer.get("batchItemFailures", []))
    return {
        "job": job,
        "init_ms": init * 1000,
        "first_ms": seconds[0] * 1000,
        "steady": seconds[1:],
        "failures": failures,
        "rss_before_mb": rss_before,
        "rss_imported_mb": rss_imported,
        "rss_peak_mb": peak_rss_mb(),
    }


# ----------------------------------------------------------------------------- parent
def child(role: str, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--role", role, *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"the {role} run failed:\n{result.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def memory_sizes() -> dict[str, int]:
    template = load_template()
    default = int(template["Globals"]["Function"]["MemorySize"])
    resources = template["Resources"]
    return {
        name: int(resources[name]["Properties"].get("MemorySize", default))
        for name in ("FanoutFunction", "ScorerFunction")
    }


def estimate(
    fanout_ms_per_1000: float,
    scorer_ms: dict[str, float],
    init_ms: dict[str, float],
    tenants: int,
    quiet: bool = False,
) -> float:
    """The cost in USD of one nightly run (both jobs); printed with its arithmetic unless `quiet`."""
    lines: list[str] = []
    memory = memory_sizes()
    concurrency = queue_settings().max_concurrency
    fan_gb, score_gb = memory["FanoutFunction"] / 1024, memory["ScorerFunction"] / 1024
    batches = math.ceil(tenants / BATCH_SIZE)
    jobs = len(NIGHTLY_JOBS)
    lines.append(f"\ncost of one nightly run at {tenants:,} tenants: {jobs} jobs (record-metrics, calculate-scores)")
    fan_s = fanout_ms_per_1000 * tenants / 1000 / 1000
    fan_gbs = jobs * fan_s * fan_gb
    lines.append(
        f"  fan-out : {jobs} invocations x {fan_s:.2f} s x {fan_gb:g} GB = {fan_gbs:,.2f} GB-s"
        f" ({fanout_ms_per_1000:,.0f} ms per 1,000 tenants)"
    )
    score_gbs = 0.0
    for job in NIGHTLY_JOBS:
        gbs = batches * scorer_ms[job] / 1000 * score_gb
        score_gbs += gbs
        lines.append(
            f"  scorer  : {batches:,} invocations x {scorer_ms[job]:.0f} ms x {score_gb:g} GB = {gbs:,.2f} GB-s"
            f" ({job}; p95 rounded up to the billed ms)"
        )
    init_gbs = jobs * (init_ms["fanout"] / 1000 * fan_gb + concurrency * init_ms["scorer"] / 1000 * score_gb)
    lines.append(
        f"  INIT    : {jobs} x (1 fan-out x {init_ms['fanout']:.0f} ms x {fan_gb:g} GB + {concurrency} scorers"
        f" x {init_ms['scorer']:.0f} ms x {score_gb:g} GB) = {init_gbs:,.2f} GB-s (cold starts are billed;"
        " imports with .pyc here, bench/cold_start.py shows them without .pyc too)"
    )
    gb_seconds = fan_gbs + score_gbs + init_gbs
    invocations = jobs * (1 + batches)
    lambda_compute = gb_seconds * LAMBDA_GB_SECOND
    lambda_requests = invocations * LAMBDA_REQUEST
    sqs_requests = jobs * 3 * batches  # SendMessageBatch, ReceiveMessage, DeleteMessageBatch: 10 messages each
    sqs = sqs_requests * SQS_REQUEST
    scheduler = jobs * SCHEDULER_INVOCATION
    total = lambda_compute + lambda_requests + sqs + scheduler
    if not quiet:
        print("\n".join(lines))
        print_table(
            "list prices, us-east-1, arm64, before free tiers (USD)",
            ["item", "arithmetic", "USD"],
            [
                ["Lambda compute", f"{gb_seconds:,.1f} GB-s x ${LAMBDA_GB_SECOND}", _usd(lambda_compute)],
                ["Lambda requests", f"{invocations:,} x $0.20/1M", _usd(lambda_requests)],
                ["SQS requests", f"{sqs_requests:,} (send, receive, delete; 10 a call) x $0.40/1M", _usd(sqs)],
                ["EventBridge Scheduler", f"{jobs} x $1.00/1M", _usd(scheduler)],
                ["total per night", "", _usd(total)],
                ["total per 30 nights", "", _usd(total * 30)],
            ],
        )
    return total


def _usd(value: float) -> str:
    return f"${value:.6f}"


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--batches", type=int, default=100, help="scorer invocations per job (default 100)")
    args.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    args.add_argument("--estimate-tenants", type=int, default=10_000, help="fleet size of the cost estimate")
    args.add_argument("--no-drain", action="store_true", help="let the queue grow while the fan-out sends")
    args.add_argument("--role", choices=["fanout", "drain", "scorer"], help=argparse.SUPPRESS)
    args.add_argument("--job", choices=NIGHTLY_JOBS, help=argparse.SUPPRESS)
    args.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    args.add_argument("--fanout-mode", choices=["drain", "no-drain", "stub"], help=argparse.SUPPRESS)
    args.add_argument("--queue-settings", help=argparse.SUPPRESS)  # JSON: the child need not read the template
    options = args.parse_args()
    global BATCH_SIZE  # one setting of the whole script: the template's, passed on to the scorer child
    BATCH_SIZE = options.batch_size or (BATCH_SIZE if options.role else queue_settings().batch_size)
    quiet_powertools()
    if options.role == "drain":
        print(run_drain(options.expect))
        return
    if options.role == "fanout":
        settings = QueueSettings(**json.loads(options.queue_settings))
        print(json.dumps(run_fanout(options.fanout_mode, settings)))
        return
    if options.role == "scorer":
        result = run_scorer(options.job, options.batches)
        print(json.dumps(result))
        return

    bench_database(options.tenants)  # DATABASE_URL is now set for the children
    modes = ("no-drain" if options.no_drain else "drain", "stub")
    template_queues = json.dumps(dataclasses.asdict(queue_settings()))
    fanouts = {mode: child("fanout", "--fanout-mode", mode, "--queue-settings", template_queues) for mode in modes}
    scorers = {
        job: child("scorer", "--job", job, "--batches", str(options.batches), "--batch-size", str(BATCH_SIZE))
        for job in NIGHTLY_JOBS
    }

    labels = {
        "drain": "local SQS (moto), drained concurrently, sends held above 100 queued",
        "no-drain": "local SQS (moto), queue not consumed",
        "stub": "SQS answered in-process (client side only)",
    }
    per_1000 = {mode: f["seconds"] * 1e6 / max(1, f["tenants"]) for mode, f in fanouts.items()}
    moto_mode = modes[0]
    print_table(
        "fan-out handler, one invocation over every ACTIVE tenant (calculate-scores)",
        ["SQS", "tenants", "seconds", "ms per 1,000 tenants", "ratio", "import ms", "peak RSS MB"],
        [
            [
                labels[mode],
                f["tenants"],
                f["seconds"],
                per_1000[mode],
                f"{per_1000[mode] / per_1000['stub']:.1f}x",
                f["init_ms"],
                f["rss_peak_mb"],
            ]
            for mode, f in fanouts.items()
        ],
    )
    if fanouts[moto_mode]["drained"] is not None:
        print(f"(the drainer, another process, received and deleted {fanouts[moto_mode]['drained']:,} messages)")
    rows: list[list[object]] = []
    steady_means: dict[str, float] = {}
    billed_ms: dict[str, float] = {}  # p95, rounded up to Lambda's 1 ms billing granularity
    for job, result in scorers.items():
        mean, median, p95 = summary_ms(result["steady"])
        steady_means[job] = mean
        billed_ms[job] = math.ceil(p95)
        rows.append(
            [
                job,
                len(result["steady"]),
                result["first_ms"],
                mean,
                median,
                p95,
                mean / BATCH_SIZE,
                f"{mean / steady_means[NIGHTLY_JOBS[0]]:.2f}x",
                result["failures"],
                result["init_ms"],
                result["rss_before_mb"],
                result["rss_imported_mb"],
                result["rss_peak_mb"],
            ]
        )
    print_table(
        f"scorer handler, batches of {BATCH_SIZE}, SQS-free (ms; RSS in MB)",
        [
            "job",
            "batches",
            "first",
            "mean",
            "p50",
            "p95",
            "per tenant",
            "ratio",
            "failed",
            "import",
            "RSS start",
            "RSS imported",
            "RSS peak",
        ],
        rows,
    )
    print("(RSS start: this process before the handler's import, with psycopg already loaded for the set-up)")
    init_ms = {"fanout": fanouts[moto_mode]["init_ms"], "scorer": scorers["calculate-score"]["init_ms"]}
    estimate(per_1000[moto_mode], billed_ms, init_ms, options.estimate_tenants)
    client_only = estimate(per_1000["stub"], billed_ms, init_ms, options.estimate_tenants, quiet=True)
    print(
        f"with the fan-out at its client-side pace ({per_1000['stub']:,.0f} ms per 1,000): {_usd(client_only)} a night"
    )


if __name__ == "__main__":
    main()
