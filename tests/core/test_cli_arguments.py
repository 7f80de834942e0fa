"""`mj-tui` without a command reads only the top level's options (the TUI starts sooner);
whatever it reads, it reads as the full parser does, and anything else goes to that parser."""

from __future__ import annotations

import pytest

from mj_tui.cli import build_parser, parse_arguments


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--demo"],
        ["--provider", "mjproxy", "--graphics", "sixel"],
        ["--profile", "tasks"],  # an option's value that names a command is still its value
        ["--base-url", "http://127.0.0.1:9", "--webhook-listen", "127.0.0.1:8088"],
        ["--demo", "--provider=ohmygpt", "--webhook-public-url", "https://example.org/hook"],
        ["tasks"],
        ["--demo", "tasks", "--json"],
        ["queue", "list"],
        ["--demo", "doctor"],
    ],
)
def test_read_as_the_full_parser_reads_it(argv):
    assert vars(parse_arguments(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [["-h"], ["--help"], ["--provider", "nope"], ["--pro", "x"], ["--graphics"], ["--no-such-option"], ["nope"]],
)
def test_help_and_mistakes_are_the_full_parsers(argv, capsys):
    with pytest.raises(SystemExit) as quick:
        parse_arguments(argv)
    said = capsys.readouterr()
    with pytest.raises(SystemExit) as full:
        build_parser().parse_args(argv)
    assert quick.value.code == full.value.code
    assert said == capsys.readouterr()  # the same words, on the same stream
    assert "COMMAND" in said.out + said.err  # the full usage, commands and all
