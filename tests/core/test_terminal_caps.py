"""What terminals answer, recorded, read back into capabilities and a renderer.

Each terminal's answers to mj-tui's questions (XTVERSION, the kitty-graphics query, the
cell and window size in pixels, device attributes) go through the AnswerCollector the
driver uses, split at every place a read could split them and mixed with key presses,
which must come out untouched.
"""

from __future__ import annotations

import pytest

from mj_tui.core import terminal_caps as tc

KITTY_OK = f"\x1b_Gi={tc.KITTY_QUERY_ID};OK\x1b\\"

RECORDED = {
    "kitty 0.26": "\x1bP>|kitty(0.26.5)\x1b\\" + KITTY_OK + "\x1b[6;19;8t\x1b[4;760;960t\x1b[?62;c",
    "kitty 0.35": "\x1bP>|kitty(0.35.2)\x1b\\" + KITTY_OK + "\x1b[6;20;10t\x1b[4;800;1200t\x1b[?62;c",
    "xterm": "\x1bP>|XTerm(379)\x1b\\\x1b[6;17;9t\x1b[?63;1;2;4;6;9;15;16;22;28c",
    "wezterm": "\x1bP>|WezTerm 20240203-110809-5046fc22\x1b\\" + KITTY_OK + "\x1b[6;17;8t\x1b[?65;4;6;18;22c",
    "foot": "\x1bP>|foot(1.16.2)\x1b\\\x1b[6;16;8t\x1b[?62;4;22c",
    "silent": "",
}

EXPECTED = {  # renderer, cell, note wanted
    "kitty 0.26": ("kitty", (8, 19), False),  # placed directly: no placeholders before 0.28
    "kitty 0.35": ("tgp", (10, 20), False),
    "xterm": ("sixel", (9, 17), False),
    "wezterm": ("sixel", (8, 17), False),
    "foot": ("sixel", (8, 16), False),
    "silent": ("halfcell", None, False),
}


def collect(text: str, step: int) -> tuple[tc.Answers, str, bool]:
    """Feed `text` in pieces of `step` characters; (answers, what passed through, done)."""
    collector = tc.AnswerCollector()
    passed = "".join(collector.feed(text[i : i + step]) for i in range(0, len(text), step))
    done = collector.done
    passed += collector.close()
    return collector.answers, passed, done


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_answers_choose_the_renderer(name):
    keys = "ab\x1b[A"  # typed while the answers come: a key and an arrow
    for step in (1, 2, 3, 7, 1000):
        answers, passed, done = collect(keys[:2] + RECORDED[name] + keys[2:], step)
        assert passed == keys
        assert done == (name != "silent")
        caps = tc.caps_from(answers, {"TERM": "xterm-256color", "LANG": "en_US.UTF-8"})
        renderer, cell, noted = EXPECTED[name]
        choice = tc.choose(caps)
        assert (choice.renderer, choice.cell, bool(choice.note)) == (renderer, cell, noted), (name, step)
        assert not choice.tmux_wrap


def test_kitty_versions_and_true_colour():
    old = tc.caps_from(tc.parse_answers(RECORDED["kitty 0.26"]), {"TERM": "xterm-kitty"})
    assert (old.name, old.version, old.kitty_graphics, old.sixel, old.truecolor) == (
        "kitty",
        "0.26.5",
        True,
        False,
        True,
    )
    assert tc.choose(old).renderer == "kitty" and "directly" in tc.choose(old).reason
    xterm = tc.caps_from(tc.parse_answers(RECORDED["xterm"]), {"TERM": "xterm-256color"})
    assert (xterm.name, xterm.version, xterm.sixel, xterm.truecolor) == ("XTerm", "379", True, False)
    assert tc.caps_from(tc.parse_answers(RECORDED["xterm"]), {"COLORTERM": "truecolor"}).truecolor


def test_cell_size_from_the_window_or_the_kernel():
    answers = tc.parse_answers("\x1b[4;760;960t\x1b[?62;c")  # window size only
    assert tc.caps_from(answers, {}, winsize=(120, 40, 0, 0)).cell == (8, 19)
    assert tc.caps_from(tc.Answers(), {}, winsize=(100, 50, 1000, 1000)).cell == (10, 20)
    assert tc.caps_from(tc.Answers(), {}, winsize=(100, 50, 0, 0)).cell is None


TMUX_OFF = tc.Tmux(version="3.3a", passthrough=False, features=("256", "RGB", "title"), title="host")
TMUX_ON = tc.Tmux(version="3.3a", passthrough=True, features=("256", "RGB", "title"), title="host")


def test_tmux_without_passthrough_asks_tmux_only_and_draws_true_colour_blocks():
    text, sentinels = tc.queries(tmux_passthrough=False, in_tmux=True)
    assert text == "\x1b[c" and sentinels == 1  # no kitty query to land in the pane title
    answers, _, done = collect("\x1b[?1;2c", 1)  # tmux answers the device attributes itself
    caps = tc.caps_from(answers, {"TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"}, TMUX_OFF)
    choice = tc.choose(caps)
    assert done and (choice.renderer, choice.truecolor, choice.tmux_wrap) == ("halfcell", True, False)
    assert "allow-passthrough" in choice.reason
    asked = tc.choose(caps, "sixel")  # the user's choice cannot be drawn here: said, and half-blocks
    assert asked.renderer == "halfcell" and "allow-passthrough" in asked.note


@pytest.mark.parametrize(
    ("outer", "renderer", "wrapped"),
    [("kitty 0.35", "tgp", True), ("kitty 0.26", "halfcell", False), ("xterm", "sixel", True)],
)
def test_tmux_with_passthrough_asks_the_outer_terminal(outer, renderer, wrapped):
    text, _ = tc.queries(tmux_passthrough=True, in_tmux=True)
    assert text.startswith("\x1bPtmux;\x1b\x1b[>0q") and text.endswith("\x1b\\")
    assert "\x1b_G" not in text.replace("\x1b\x1b_G", "")  # the kitty query only inside the wrapping
    answers, _, _ = collect(RECORDED[outer], 5)  # tmux hands the outer terminal's answers on
    caps = tc.caps_from(answers, {"TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"}, TMUX_ON)
    choice = tc.choose(caps)
    assert (choice.renderer, choice.tmux_wrap) == (renderer, wrapped)
    assert choice.truecolor
    if renderer == "halfcell":
        assert "tmux" in choice.note


def test_tmux_wrap_doubles_every_escape():
    assert tc.tmux_wrap("\x1b_Ga=q\x1b\\") == "\x1bPtmux;\x1b\x1b_Ga=q\x1b\x1b\\\x1b\\"


def test_explicit_choices_stand_with_a_note_when_the_terminal_disagrees():
    kitty = tc.caps_from(tc.parse_answers(RECORDED["kitty 0.26"]), {})
    choice = tc.choose(kitty, "sixel")  # it said no: raw Sixel text would cross the pane
    assert choice.renderer == "halfcell" and "does not draw Sixel" in choice.note
    assert tc.choose(kitty, "halfcell").note == ""
    xterm = tc.caps_from(tc.parse_answers(RECORDED["xterm"]), {})
    assert tc.choose(xterm, "tgp").renderer == "halfcell" and "kitty graphics" in tc.choose(xterm, "tgp").note
    assert tc.choose(xterm, "sixel").renderer == "sixel" and not tc.choose(xterm, "sixel").note
    silent = tc.caps_from(tc.Answers(), {})
    assert tc.choose(silent, "sixel").renderer == "sixel"  # nothing known against it: as asked
    assert tc.choose(kitty, "tgp").renderer == "kitty"  # the kitty protocol, placed directly
    assert tc.choose(kitty, "halfcell").note == ""


def test_the_cache_remembers_per_terminal(tmp_path):
    path = tmp_path / "terminals.json"
    env_kitty = {"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"}
    env_tmux = {"TERM": "tmux-256color", "TMUX": "/tmp/t,1,0"}
    kitty = tc.caps_from(tc.parse_answers(RECORDED["kitty 0.35"]), env_kitty)
    in_tmux = tc.caps_from(tc.parse_answers("\x1b[?1;2c"), env_tmux, TMUX_ON)
    tc.save_cached(path, env_kitty, kitty)
    tc.save_cached(path, env_tmux, in_tmux)
    back = tc.load_cached(path, env_kitty)
    assert back is not None and back.from_cache and tc.choose(back) == tc.choose(kitty)
    back_tmux = tc.load_cached(path, env_tmux)
    assert back_tmux is not None and back_tmux.tmux == TMUX_ON
    assert tc.load_cached(path, {"TERM": "xterm-256color"}) is None
    path.write_text("not json")
    assert tc.load_cached(path, env_kitty) is None


@pytest.mark.parametrize(
    ("env", "utf8"),
    [
        ({}, True),
        ({"LANG": "en_US.UTF-8"}, True),
        ({"LANG": "en_US.utf8"}, True),
        ({"LANG": "en_US.ISO-8859-1"}, False),
        ({"LANG": "C"}, False),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "POSIX"}, False),
        ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, False),  # Python's own coercion (PEP 538)
        ({"LANG": "en_US.ISO-8859-1", "LC_CTYPE": "en_US.UTF-8"}, True),
    ],
)
def test_locale(env, utf8):
    assert tc.locale_is_utf8(env) is utf8


def test_an_unknown_dcs_answer_is_taken_out_and_a_lone_escape_goes_through():
    collector = tc.AnswerCollector()
    assert collector.feed("\x1bP0+r\x1b\\x") == "x"
    assert collector.feed("\x1b") == ""  # could be the start of an answer: held
    assert collector.close() == "\x1b"  # the round is over: it was the escape key


def test_a_hostile_version_string_is_kept_printable():
    answers = tc.parse_answers("\x1bP>|evil\x07\r\x9b31m(1.0)\x1b\\\x1b[?62;c")
    assert answers.xtversion == "evil31m(1.0)"
