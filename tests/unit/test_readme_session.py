"""How tests/e2e/test_readme.py reads the README: which blocks run, which output each is compared with."""

from __future__ import annotations

from pathlib import Path

from readme_session import matches_transcript, run_session, shell_blocks

DOCUMENT = """# Title

```sh illustrative
make run
```

```sh
echo one
```

```text
one
```

Prose between: the next text block is not an output.

```sh
X=two
echo "$X"
```

Not directly after:

```text
ignored
```

```
diagram
```

```sh
echo "still $X"; false
```
"""


def test_blocks_their_outputs_and_the_illustrative_ones() -> None:
    blocks = shell_blocks(DOCUMENT)
    assert [(b.line, b.illustrative, b.expected) for b in blocks] == [
        (3, True, None),
        (7, False, "one\n"),
        (17, False, None),
        (32, False, None),
    ]


def test_a_transcript_is_literal_but_for_ellipses_and_trailing_blanks() -> None:
    assert matches_transcript('{"runId":"recalc-..."} 202\n', '{"runId":"recalc-2026-12-06T03"} 202  \n')
    assert matches_transcript("a\n...\nz\n", "a\nb\nc\nz\n")
    assert not matches_transcript("a\nz\n", "a\nb\nz\n")
    assert not matches_transcript('{"score":11}', '{"score":12}')
    assert not matches_transcript("a.c", "abc")  # only `...` is special


def test_blocks_share_one_shell_and_the_first_failure_stops_the_session(tmp_path: Path) -> None:
    session = run_session(shell_blocks(DOCUMENT), tmp_path, {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert [run.stdout for run in session.runs] == ["one\n", "two\n", "still two\n"]
    assert [run.status for run in session.runs] == [0, 0, 1]
    assert [block.line for block in session.left_out] == [3]
