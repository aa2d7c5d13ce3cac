"""The README's shell sessions, read from its fenced blocks and run as a new user would, in one fresh shell.

The README's convention (tests/e2e/test_readme.py runs it):
- a block fenced ```sh is run; one fenced ```sh illustrative is not (an AWS deploy, `make run` itself) and is
  counted as left out;
- a block fenced ```text or ```json right after a ```sh block (nothing but blank lines between) is what that block
  prints on standard output, compared line by line: `...` stands for any text (within a line or over lines), so a
  transcript says exactly what is reproducible and leaves out only what is not (times, run ids);
- the blocks run in order in one bash, as typed into one terminal: a variable set in one is there in the next;
  `set -e` holds, so a command that fails stops the session (show an expected failure with `|| echo ...`).

Import with `from readme_session import ...` (pytest puts `tests/` on sys.path).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
OUTPUT_LANGUAGES = ("text", "json")
ILLUSTRATIVE = "illustrative"
SESSION_TIMEOUT_SECONDS = 600  # a deadline against a hang, not a speed target


@dataclass(frozen=True)
class ShellBlock:
    line: int  # of its opening fence, for messages
    code: str
    illustrative: bool
    expected: str | None  # the output block that follows it, if any


@dataclass
class BlockRun:
    block: ShellBlock
    status: int
    stdout: str
    stderr: str


@dataclass
class Session:
    runs: list[BlockRun] = field(default_factory=list)
    left_out: list[ShellBlock] = field(default_factory=list)


def shell_blocks(markdown: str) -> list[ShellBlock]:
    """Every ```sh block of the document, each with the output block that follows it."""
    fences = list(FENCE.finditer(markdown))
    blocks = []
    for index, fence in enumerate(fences):
        language, *flags = fence.group(1).split() or [""]
        if language != "sh":
            continue
        expected = None
        if index + 1 < len(fences):
            following = fences[index + 1]
            between = markdown[fence.end() : following.start()]
            if following.group(1).strip() in OUTPUT_LANGUAGES and not between.strip():
                expected = following.group(2)
        blocks.append(
            ShellBlock(
                line=markdown.count("\n", 0, fence.start()) + 1,
                code=fence.group(2),
                illustrative=ILLUSTRATIVE in flags,
                expected=expected,
            )
        )
    return blocks


def transcript_pattern(expected: str) -> re.Pattern[str]:
    """`expected` as a pattern: literal text, `...` for any text, trailing blanks of each line ignored."""
    parts = [re.escape(part) for part in _trim_lines(expected).split("...")]
    return re.compile("(?s)" + ".*?".join(parts))


def matches_transcript(expected: str, actual: str) -> bool:
    return transcript_pattern(expected).fullmatch(_trim_lines(actual)) is not None


def _trim_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def run_session(blocks: list[ShellBlock], cwd: Path, environment: dict[str, str], work: Path) -> Session:
    """Run the blocks that are not illustrative in one bash, in order; stops at the first that fails.

    Each block's standard output and error go to files of its own (a server started in the background by a
    block keeps writing to that block's files, not into a later block's transcript).
    """
    session = Session()
    marker = f"block-done-{uuid.uuid4().hex}"
    shell = subprocess.Popen(
        ["bash", "--noprofile", "--norc"],
        cwd=cwd,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert shell.stdin is not None
    assert shell.stdout is not None
    # A hung command would block the reading below for ever: past the deadline the shell's group is killed.
    watchdog = threading.Timer(SESSION_TIMEOUT_SECONDS, os.killpg, (shell.pid, signal.SIGKILL))
    watchdog.start()
    try:
        shell.stdin.write("set -e -o pipefail\n")
        for number, block in enumerate(blocks):
            if block.illustrative:
                session.left_out.append(block)
                continue
            out, err, script = work / f"block-{number}.out", work / f"block-{number}.err", work / f"block-{number}.sh"
            script.write_text(block.code)
            # `source` keeps the shell's variables; `set -e` stops the shell (and so the session) on a failure.
            shell.stdin.write(f"source {script} > {out} 2> {err}\necho {marker}\n")
            shell.stdin.flush()
            done = _read_until(shell, marker)
            status = 0 if done else (shell.wait() or 1)
            session.runs.append(BlockRun(block, status, out.read_text(), err.read_text()))
            if not done:
                break
    finally:
        shell.stdin.close()
        shell.wait()
        watchdog.cancel()
    return session


def _read_until(shell: subprocess.Popen[str], marker: str) -> bool:
    """True when the shell printed the marker (the block ran to its end), False when it exited first."""
    assert shell.stdout is not None
    return any(line.strip() == marker for line in shell.stdout)
