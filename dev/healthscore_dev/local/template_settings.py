"""The queue and event-source settings of `template.yaml`, so local mode mirrors AWS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# dev/healthscore_dev/local/ -> the project root holding template.yaml
TEMPLATE_PATH = Path(__file__).resolve().parents[3] / "template.yaml"


@dataclass(frozen=True)
class QueueSettings:
    visibility_timeout: int
    max_receive_count: int
    dead_letter_retention_seconds: int
    batch_size: int
    max_concurrency: int


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    from cfnlint.decode import decode  # dev-only: understands !Ref, !GetAtt, !Sub

    template, matches = decode(str(path))
    if template is None:
        raise RuntimeError(f"cannot read {path.name}: {matches}")
    return dict(template)


def queue_settings(template: dict[str, Any] | None = None) -> QueueSettings:
    template = template or load_template()
    resources = template["Resources"]
    queue = resources["ScoringQueue"]["Properties"]
    dead_letter = resources["ScoringDeadLetterQueue"]["Properties"]
    source = next(
        event["Properties"]
        for event in resources["ScorerFunction"]["Properties"]["Events"].values()
        if event["Type"] == "SQS"
    )
    return QueueSettings(
        visibility_timeout=int(queue["VisibilityTimeout"]),
        max_receive_count=int(queue["RedrivePolicy"]["maxReceiveCount"]),
        dead_letter_retention_seconds=int(dead_letter["MessageRetentionPeriod"]),
        batch_size=int(source["BatchSize"]),
        max_concurrency=int(template["Parameters"]["MaxScorerConcurrency"]["Default"]),
    )
