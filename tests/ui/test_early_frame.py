"""The first frame drawn before Textual is imported (early_frame.py): the start screen's own
panes, in the colours its last run kept, cell for cell what Textual then draws; and on a
real terminal, before Textual, with the keys typed meanwhile kept and the terminal left as
it was."""

from __future__ import annotations

import os
import re
import sys
import termios
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.keys import fresh_key
from test_start_screen import gate_main, main_started
from test_terminal_pty import KITTY_026, Terminal, env_for
from textual.content import Content
from ui_helpers import make_app, make_launch, wait_for

from mj_tui.core.config import load_config
from mj_tui.core.history import namespace_for, store_page
from mj_tui.core.models import Button, Mode, Page, ProviderKind, Status, Task
from mj_tui.ui import early_frame, start_frame
from mj_tui.ui.screens.start import StartScreen

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
STATUSES = [
    Status.SUCCESS,
    Status.FAILURE,
    Status.IN_PROGRESS,
    Status.SUBMITTED,
    Status.MODAL,
    Status.UNCONFIRMED,
    Status.CANCEL,
    Status.NOT_START,
    Status.UNKNOWN,
]
SGR = re.compile(r"\x1b\[([0-9;]*)m")
MOVE = re.compile(r"\x1b\[(\d+);1H")


def varied(count: int) -> list[Task]:
    """Tasks in every state, starred or tagged, with wide characters and markup-like text."""
    tasks = []
    for i in range(count):
        status = STATUSES[i % len(STATUSES)]
        tasks.append(
            Task(
                id=str(1_770_000_000_000_000 + i),
                provider=ProviderKind.MJPROXY,
                status=status,
                progress=37,
                prompt=f"a [bold]fox[/] 日本語 {i} " + "long words " * (i % 4),
                mode=Mode.FAST,
                action=["IMAGINE", "UPSCALE", "VARIATION", "DESCRIBE"][i % 4],
                submit_time=T0 + timedelta(minutes=i),
                start_time=T0 + timedelta(minutes=i, seconds=5),
                finish_time=T0 + timedelta(minutes=i, seconds=65) if status.is_terminal else None,
                fail_reason="banned \x1b[31m word" if status == Status.FAILURE else None,
                starred=i % 5 == 0,
                tags=("cat", "dog") if i % 3 == 0 else (),
                buttons=(Button("MJ::JOB::upsample::1::abc", "U1"),),
            )
        )
    return tasks


def cells(line: str) -> list[tuple[str, str]]:
    """Each character of a line as written to the terminal, with the SGR codes it is drawn in."""
    out, style = [], ""
    for match in re.finditer(r"\x1b\[([0-9;]*)m|([^\x1b])", line):
        if match.group(1) is not None:
            style = "" if match.group(1) in ("", "0") else match.group(1)
        else:
            out.append((match.group(2), style))
    return out


def seen(line: str) -> list[tuple[str, str]]:
    """`cells`, less what cannot be seen: the text colour of a blank."""
    out = []
    for char, style in cells(line):
        if char == " ":
            codes, kept = style.split(";") if style else [], []
            while codes:
                code = codes.pop(0)
                if code in ("38", "48"):  # an extended colour: 5;n or 2;r;g;b follow
                    size = 2 if codes[0] == "5" else 4
                    colour, codes = codes[:size], codes[size:]
                    if code == "48":
                        kept += [code, *colour]
                elif not (code.isdigit() and (30 <= int(code) <= 39 or 90 <= int(code) <= 97 or code == "1")):
                    kept.append(code)
            style = ";".join(kept)
        out.append((char, style))
    return out


def early_rows(frame: str) -> dict[int, str]:
    """The early frame's lines by terminal row (1-based), as it positions them."""
    parts = MOVE.split(frame.removeprefix(early_frame.BEGIN).removesuffix(early_frame.END))
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.mark.parametrize("size", [(120, 40), (81, 24)])
async def test_the_early_frame_is_the_start_screen_cell_for_cell(emulator, tmp_path, graphics, monkeypatch, size):
    launch = make_launch(tmp_path, emulator, "mjproxy", key=fresh_key(), page_size=0)
    history = launch.open_history()
    # (every state, and rows of two lines; as many as fit the list without a scrollbar)
    history.upsert(namespace_for(launch.profile), varied(10))
    history.close()
    gate = gate_main(monkeypatch)  # the start screen stays up
    app = make_app(launch, graphics, quick_start=True, clock=lambda: NOW)
    path = early_frame.kept_path()
    assert not path.exists()
    async with app.run_test(size=size) as pilot:
        start = await wait_for(pilot, lambda: isinstance(app.screen, StartScreen) and app.screen, what="start")
        await pilot.pause()
        drawn_strips = start._compositor.render_strips()
        drawn = [strip.render(app.console) for strip in drawn_strips]
        kept_here = start.kept_colours()
        start.keep_for_next_start()
        await wait_for(pilot, path.exists, what="the colours kept")
        key = early_frame.frame_key(dict(os.environ), launch.config.theme)
        kept = early_frame.load(path, key)
        assert kept is not None and set(kept.styles) == start_frame.styles()
        assert early_frame.load(path, key + "another terminal") is None
        assert not early_frame.remember(path, key, kept)  # unchanged: not written again

        page = store_page(start.history, launch.profile, 1, start.page_size)
        frame = early_frame.frame(kept, launch, os.terminal_size(size), page, NOW)
        assert frame is not None and frame.startswith(early_frame.BEGIN) and frame.endswith(early_frame.END)
        rows = early_rows(frame)
        assert sorted(rows) == list(range(1, size[1] + 1))
        for y, line in enumerate(drawn, start=1):
            assert cells(rows[y]) == cells(line), f"row {y}"
        assert "▶" in frame and "page 1 of 1 · total 10" in frame  # (not an empty list's frame)

        # another width: the bars in their colour, their words left to Textual
        wider = early_rows(early_frame.frame(kept, launch, os.terminal_size((size[0] + 3, size[1])), page, NOW) or "")
        assert {char for char, _ in cells(wider[1])} == {" "} and cells(wider[1])[0][1] == cells(drawn[0])[-1][1]

        # the app keeps them itself once the main screen is up, from the start screen below it
        path.unlink()
        gate.set()
        await wait_for(pilot, main_started(app), what="the main screen")
        await wait_for(pilot, path.exists, what="the colours kept by the app")
        assert app.screen_stack[0] is start and start.kept_colours() == kept_here == early_frame.load(path, key)

        # the main screen draws the task list's pane as the frame did: titles, rows and their
        # second lines, the page line
        main = app.main_screen
        assert main is not None
        await pilot.pause()
        region = main.tasks.region
        after = main._compositor.render_strips()
        for y in range(region.y, region.bottom):
            now_drawn = after[y].crop(region.x, region.right).render(app.console)
            assert seen(now_drawn) == seen(drawn_strips[y].crop(region.x, region.right).render(app.console)), y


def test_every_style_a_frame_can_have_is_kept():
    tasks = varied(40)
    for width, height in ((200, 60), (81, 24), (40, 12)):
        for index in range(0, len(tasks), 9):
            page = Page(tasks[index : index + 9], 1, 9, 40)
            lines = start_frame.panes(width, height, page, NOW, Mode.FAST)
            assert len(lines) == height
            assert {style for line in lines for _, style in line} <= start_frame.styles()


@pytest.mark.parametrize("size", [(2, 3), (3, 3), (10, 4), (20, 8), (41, 12), (80, 24), (233, 70)])
def test_any_terminal_size_gives_whole_lines(size):
    """Each line exactly as wide as the terminal, one per row: nothing wraps or is left over."""
    from rich.cells import cell_len

    width, height = size
    page = Page(varied(9), 1, 9, 40)
    frame = early_frame.frame(
        early_frame.Kept(dict.fromkeys(start_frame.styles(), ""), "", "", "", "", ""),
        make_launch(Path("/nonexistent"), "http://emulator.test", "mjproxy", key="k"),
        os.terminal_size(size),
        page,
        NOW,
    )
    rows = early_rows(frame or "")
    assert sorted(rows) == list(range(1, height + 1))
    assert all(cell_len(SGR.sub("", rows[y])) == width for y in rows)


@pytest.mark.parametrize("width", [0, 1, 2, 5, 9, 10, 11, 30])
def test_fit_cuts_and_pads_as_content_truncate_does(width):
    runs = [("ab", "$accent"), ("日本語", ""), ("cd", "bold $error"), ("é!", "$text-muted")]
    content = Content.assemble(*runs).truncate(width, ellipsis=True, pad=True)
    fitted = start_frame.fit(runs, width)
    assert "".join(text for text, _ in fitted) == content.plain
    styled = {(span.start, span.end, span.style) for span in content.spans}
    at = 0
    for text, style in fitted:
        if style:
            assert any(s <= at and at + len(text) <= e and st == style for s, e, st in styled), (text, style)
        at += len(text)


def test_nothing_is_drawn_without_kept_colours(tmp_path):
    path = tmp_path / "first-frame.json"
    assert early_frame.load(path, "k") is None  # none kept
    path.write_text("{not json")
    assert early_frame.load(path, "k") is None
    path.write_text('{"k": {"format": 0, "styles": {}}}')
    assert early_frame.load(path, "k") is None  # an older shape
    assert early_frame.render([[("x", "an unknown style")]], {}) is None


def _kept_plainly(env: dict[str, str]) -> None:
    """Colours kept for the child's terminal: none at all (every style plain), and bars."""
    kept = early_frame.Kept(
        styles=dict.fromkeys(start_frame.styles(), ""),
        bars="",
        header="",
        footer="",
        header_fill="",
        footer_fill="",
    )
    path = Path(env["MJ_TUI_CACHE_DIR"]) / early_frame.CACHE_FILE
    theme = load_config(Path(env["MJ_TUI_CONFIG"])).theme
    assert early_frame.remember(path, early_frame.frame_key(env, theme), kept)


def terminal_side(term: Terminal) -> int:
    """The child's end of its terminal, opened here too: to read the modes it sets."""
    return os.open(os.readlink(f"/proc/{term.proc.pid}/fd/0"), os.O_RDWR | os.O_NOCTTY)


def fresh_modes() -> list:
    """A new terminal's modes (the child's, before it changed them, were these)."""
    leader, follower = os.openpty()
    try:
        return termios.tcgetattr(follower)
    finally:
        os.close(leader)
        os.close(follower)


def test_on_a_terminal_it_comes_before_textual_and_keeps_the_keys_typed(tmp_path):
    env = dict(env_for(tmp_path), MJ_TUI_CONFIG=str(tmp_path / "none.toml"))
    _kept_plainly(env)
    term = Terminal([sys.executable, "-m", "mj_tui", "--demo"], env, KITTY_026)
    follower = terminal_side(term)
    before = fresh_modes()
    try:
        term.read_until(lambda: b"page 1 of" in term.out)
        early = bytes(term.out)
        assert early.startswith(early_frame.BEGIN.encode())
        assert b"\x1b[?1004h" not in early  # Textual's driver has not started
        assert not termios.tcgetattr(follower)[3] & termios.ECHO  # typing does not echo over the frame
        os.write(term.fd, b"a red fox")
        term.read_until(lambda: "a red fox" in term.screen() and b"\x1b[?1004h" in term.out)
        assert bytes(term.out).count(b"\x1b[?1049h") == 1  # Textual stayed on the frame's screen
        os.write(term.fd, b"\x11")  # ctrl+q (nothing was sent: it does not ask)
        assert term.proc.wait(timeout=20) == 0
        assert termios.tcgetattr(follower) == before  # the modes from before the early frame
    finally:
        os.close(follower)
        term.close()


def test_a_failure_after_the_early_frame_leaves_the_terminal_as_it_was(tmp_path):
    env = dict(env_for(tmp_path), MJ_TUI_CONFIG=str(tmp_path / "none.toml"))
    _kept_plainly(env)
    script = (
        "import sys\n"
        "from mj_tui.launch import build_launch\n"
        "from mj_tui.ui.early_frame import draw\n"
        "assert draw(build_launch(demo=True)) is not None\n"
        "assert 'textual' not in sys.modules\n"
        "raise SystemExit(3)\n"
    )
    term = Terminal([sys.executable, "-c", script], env, {})
    follower = terminal_side(term)
    before = fresh_modes()
    try:
        term.read_until(lambda: bytes(term.out).endswith(early_frame.LEAVE.encode()))
        assert term.proc.wait(timeout=10) == 3 and b"page 1 of" in term.out
        assert termios.tcgetattr(follower) == before
    finally:
        os.close(follower)
        term.close()


def test_doctor_says_whether_the_first_frame_comes_before_textual(tmp_path):
    env = dict(env_for(tmp_path), MJ_TUI_CONFIG=str(tmp_path / "none.toml"))
    said = []
    for kept in (False, True):
        if kept:
            _kept_plainly(env)
        term = Terminal([sys.executable, "-m", "mj_tui", "doctor"], env, KITTY_026)
        try:
            term.read_until(lambda term=term: term.proc.poll() is not None and "first frame" in term.screen())
            said.append(re.search(r"first frame +(.*)", term.screen()).group(1))  # type: ignore[union-attr]
        finally:
            term.close()
    assert said[0].startswith("drawn by Textual") and said[1].startswith("drawn before Textual loads")


async def test_a_page_longer_than_the_list_is_cut_as_the_main_screen_cuts_it(emulator, tmp_path, graphics, monkeypatch):
    """Rows of two lines make page 1 longer than the list: the main screen adds a scrollbar
    and cuts the rows a cell shorter; the first frame cuts them the same (the bar's own cell
    is blank there)."""
    launch = make_launch(tmp_path, emulator, "mjproxy", key=fresh_key(), page_size=0)
    history = launch.open_history()
    history.upsert(namespace_for(launch.profile), varied(30))
    history.close()
    gate = gate_main(monkeypatch)
    app = make_app(launch, graphics, quick_start=True, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        start = await wait_for(pilot, lambda: isinstance(app.screen, StartScreen) and app.screen, what="start")
        await pilot.pause()
        before = start._compositor.render_strips()
        gate.set()
        main = await wait_for(pilot, main_started(app), what="the main screen")
        await pilot.pause()
        after = main._compositor.render_strips()
        region = main.tasks.region
        assert main.tasks.show_vertical_scrollbar
        for y in range(region.y, region.bottom):
            for x0, x1 in ((region.x, region.right - 3), (region.right - 2, region.right)):  # (not the bar)
                was, now = (strips[y].crop(x0, x1).render(app.console) for strips in (before, after))
                assert seen(was) == seen(now), (y, x0)


async def test_a_narrow_list_is_never_built_wide_first(emulator, tmp_path, graphics, monkeypatch):
    """Below ~108 columns the list has narrow rows ("img"): its first page, built before the
    first layout, is built narrow too, not wide for a frame ("imagine") and narrow after."""
    from mj_tui.ui.widgets.task_list import TaskList

    launch = make_launch(tmp_path, emulator, "mjproxy", key=fresh_key(), page_size=0)
    history = launch.open_history()
    history.upsert(namespace_for(launch.profile), varied(5))
    history.close()
    built: list[bool] = []
    real = TaskList._rebuild

    def rebuild(self, keep):
        built.append(self._compact())
        real(self, keep)

    monkeypatch.setattr(TaskList, "_rebuild", rebuild)
    app = make_app(launch, graphics, quick_start=True, clock=lambda: NOW)
    async with app.run_test(size=(81, 24)) as pilot:
        main = await wait_for(pilot, main_started(app), what="the main screen")
        await pilot.pause()
        assert built and all(built), built
        assert "img" in "".join(text for text, _ in seen(main._compositor.render_strips()[2].render(app.console)))


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (100, 30)])
async def test_the_prompt_box_reads_as_the_main_screen_first_draws_it(emulator, tmp_path, graphics, monkeypatch, size):
    """Its placeholders wrapped where the text area and the input wrap them, the mode chip
    as first drawn: the words do not move when the main screen comes (its focus colours do)."""
    launch = make_launch(tmp_path, emulator, "mjproxy", key=fresh_key(), page_size=0)
    gate = gate_main(monkeypatch)
    app = make_app(launch, graphics, quick_start=True, clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        start = await wait_for(pilot, lambda: isinstance(app.screen, StartScreen) and app.screen, what="start")
        await pilot.pause()
        before = start._compositor.render_strips()
        gate.set()
        main = await wait_for(pilot, main_started(app), what="the main screen")
        after = main._compositor.render_strips()  # (before the provider's modes are in)
        region = main.composer.region
        for y in range(region.y, region.bottom):
            was, now = (
                "".join(char for char, _ in cells(strips[y].crop(region.x, region.right).render(app.console)))
                for strips in (before, after)
            )
            assert was == now.replace("▸", " "), (y, was, now)  # (the chip's ▸ comes with the modes)
