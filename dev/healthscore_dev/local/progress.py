"""A one-line progress bar on stderr for a run's tenants."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

BAR_WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, total: int, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream
        self.started = time.monotonic()
        self.interactive = stream.isatty()
        self._last_decile = -1
        self._line = ""

    def update(self, state: dict[str, Any]) -> None:
        done, skipped, failed = int(state["done"]), int(state["skipped"]), int(state["failed"])
        settled = done + skipped + failed
        total = int(state.get("tenant_count") or self.total)  # known once the fan-out is done
        fraction = min(1.0, settled / max(total, 1))
        rate = settled / max(time.monotonic() - self.started, 1e-6)
        filled = int(fraction * BAR_WIDTH)
        line = (
            f"{self.label:<17} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {settled:>6,}/{total:,} "
            f"done {done:,} skipped {skipped:,} failed {failed:,} ({rate:,.0f}/s)"
        )
        self._line = line
        if self.interactive:
            self.stream.write("\r" + line)
        elif int(fraction * 10) > self._last_decile:  # a log-friendly line every 10%
            self._last_decile = int(fraction * 10)
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar, showing the final state in either mode."""
        self.stream.write("\n" if self.interactive else self._line + "\n")
        self.stream.flush()
