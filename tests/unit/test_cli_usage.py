"""A mistake on the command line is answered with the usage of the (sub)command it was made in."""

from __future__ import annotations

import pytest

from healthscore_dev.cli.main import main


@pytest.mark.parametrize(
    ("argv", "usage", "error"),
    [
        (["dlq", "replay", "--bogus"], "usage: healthscore dlq replay ", "unrecognized arguments: --bogus"),
        (["db", "migrate", "--force"], "usage: healthscore db migrate ", "unrecognized arguments: --force"),
        (["dlq", "--bogus", "list"], "usage: healthscore dlq ", "unrecognized arguments: --bogus"),
        (["run"], "usage: healthscore run [-h] {nightly} ...", "the following arguments are required: {nightly}"),
        (["profiles"], "usage: healthscore profiles ", "the following arguments are required: {list,show,apply,"),
        (["local", "token", "--role", "admin"], "usage: healthscore local token ", "invalid choice: 'admin'"),
        ([], "usage: healthscore [-h] COMMAND ...", "the following arguments are required: COMMAND"),
    ],
)
def test_a_mistake_prints_its_subcommands_usage(
    argv: list[str], usage: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    assert error in err
    assert "_command" not in err  # no internal name


def test_dlq_list_help_says_that_listing_raises_the_receive_count(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["dlq", "--help"], ["dlq", "list", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "receive count" in " ".join(capsys.readouterr().out.split())
