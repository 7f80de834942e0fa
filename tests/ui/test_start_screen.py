"""The quick start (`mj-tui` in a terminal): the first frame is the start screen, drawn from
the local store alone; the main screen follows, and keys typed meanwhile reach it in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from support.keys import fresh_key
from textual import events
from textual.widgets import Input, Static
from ui_helpers import make_app, make_launch, wait_for

from mj_tui.core.history import namespace_for
from mj_tui.core.models import Button, Mode, ProviderKind, Status, Task
from mj_tui.ui.app import MjApp
from mj_tui.ui.screens.main import MainScreen
from mj_tui.ui.screens.start import PROMPT_PLACEHOLDER, REFS_PLACEHOLDER, StartScreen
from mj_tui.ui.task_format import row_runs

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def seed(launch, count: int) -> list[Task]:
    """`count` finished grids (with U1-U4) in the launch's local store, newest last."""
    history = launch.open_history()
    buttons = tuple(Button(f"MJ::JOB::upsample::{i}::abc", f"U{i}") for i in range(1, 5))
    tasks = [
        Task(
            id=str(1_770_000_000_000_000 + i),
            provider=ProviderKind.MJPROXY,
            status=Status.SUCCESS,
            progress=100,
            prompt=f"stored grid {i}",
            mode=Mode.FAST,
            submit_time=T0 + timedelta(minutes=i),
            buttons=buttons,
        )
        for i in range(count)
    ]
    history.upsert(namespace_for(launch.profile), tasks)
    history.close()
    return tasks


def gate_main(monkeypatch) -> asyncio.Event:
    """Hold the swap to the main screen until the returned event is set."""
    gate = asyncio.Event()
    real = MjApp.start_main

    def held(self) -> None:
        async def later() -> None:
            await gate.wait()
            await real(self)

        self.run_worker(later())  # (the app goes on taking keys meanwhile)

    monkeypatch.setattr(MjApp, "start_main", held)
    return gate


def main_started(app):
    """The main screen, once it is up with its first page drawn."""
    return lambda: (main := app.main_screen) is not None and main.started and main


def imagines(control) -> int:
    return sum(n for path, n in control.get("/_emulator/state").json()["requests"].items() if "imagine" in path)


def drawn(start: StartScreen) -> list[str]:
    """The start screen's panes as text, one string per terminal row below the header."""
    return start.query_one("#start-body", Static).render().plain.splitlines()


def corners(lines: list[str]) -> set[tuple[int, int]]:
    """Where the panes drawn as text begin: (column, row on screen) of each top-left corner."""
    return {(x, y + 1) for y, line in enumerate(lines) for x, char in enumerate(line) if char == "╭"}


async def test_the_first_frame_is_page_one_from_the_store_then_the_main_screen(
    emulator, control, tmp_path, graphics, monkeypatch
):
    launch = make_launch(tmp_path, emulator, "mjproxy", key=fresh_key(), page_size=0)
    tasks = seed(launch, 40)
    gate = gate_main(monkeypatch)
    app = make_app(launch, graphics, quick_start=True)
    async with app.run_test(size=(120, 40)) as pilot:
        start = await wait_for(pilot, lambda: isinstance(app.screen, StartScreen) and app.screen, what="start")
        assert app.main_screen is None  # not built, not imported by asking
        rows = start.page_size
        assert rows == 40 - 1 - 1 - 2 - 7  # all the list's rows at 120x40: the page the main list fits
        lines = drawn(start)
        assert len(lines) == 38 and all(len(line) == 120 for line in lines)
        left = [line[:60] for line in lines]
        assert left[0].startswith("╭─ Tasks ─") and left[0].endswith("─╮")
        assert left[rows + 1].endswith(f"─ page 1 of {-(-40 // rows)} · total 40 ─╯")
        newest = sorted(tasks, key=lambda t: t.submit_time, reverse=True)[:rows]
        now = app.now()
        for index, task in enumerate(newest):
            row = ("▶" if index == 0 else " ") + "".join(text for text, _ in row_runs(task, now))
            assert left[index + 1] == "│" + row.ljust(57) + " │"
        assert "Type a prompt" in left[rows + 3]

        gate.set()
        main = await wait_for(pilot, main_started(app), what="the main screen")
        assert app.screen is main and app.screen_stack[0] is start  # the start screen stays below, hidden
        assert main.history is start.history  # one store, opened once
        assert main.session.page_size == rows
        assert [t.id for t in main.tasks.tasks] == [t.id for t in newest]  # the same page, not read again smaller
        assert main.composer.text_area.has_focus
        assert main.composer.text_area.placeholder == PROMPT_PLACEHOLDER  # the words drawn before it
        assert main.composer.query_one("#refs", Input).placeholder == REFS_PLACEHOLDER
        # the panes were drawn where the main screen lays them out
        panes = (main.tasks, main.composer, main.preview, main.actions)
        assert corners(lines) == {(pane.region.x, pane.region.y) for pane in panes}
        assert main.tasks.region.height == rows + 2


async def test_keys_typed_before_the_main_screen_are_typed_into_it_in_order(
    emulator, control, tmp_path, graphics, monkeypatch
):
    launch = make_launch(tmp_path, emulator, "mjproxy", key=fresh_key())
    seed(launch, 3)
    gate = gate_main(monkeypatch)
    app = make_app(launch, graphics, quick_start=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), what="the start screen")
        before = imagines(control)
        # "u" and "1" would press U1 of the selected task in the list; enter would act too
        await pilot.press(*"a fox u1", "enter")
        app.post_message(events.Paste("!"))
        await pilot.pause()
        held = app._held_input
        assert held is not None and [getattr(e, "key", "paste") for e in held][-3:] == ["1", "enter", "paste"]
        assert isinstance(app.screen, StartScreen)  # nothing acted on the start screen

        gate.set()
        main = await wait_for(pilot, main_started(app), what="the main screen")
        area = main.composer.text_area
        await wait_for(pilot, lambda: area.text == "a fox u1\n!", what="the held keys typed")
        assert app._held_input is None
        assert imagines(control) == before  # no button pressed, nothing sent
        await pilot.press("x")
        await wait_for(pilot, lambda: area.text.endswith("!x"), what="keys typed later still arrive after them")


async def test_ctrl_q_on_the_start_screen_quits_at_once(emulator, control, tmp_path, graphics, monkeypatch):
    launch = make_launch(tmp_path, emulator, "mjproxy", key=fresh_key(), page_size=0)
    gate_main(monkeypatch)  # the main screen never comes
    app = make_app(launch, graphics, quick_start=True)
    async with app.run_test(size=(81, 24)) as pilot:
        start = await wait_for(pilot, lambda: isinstance(app.screen, StartScreen) and app.screen, what="start")
        assert start.has_class("-short") and start.page_size == 24 - 1 - 1 - 2 - 6
        assert corners(drawn(start)) == {(0, 1), (0, 17), (40, 1), (40, 20)}  # the odd column goes right
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, what="the app gone")


async def test_without_quick_start_the_main_screen_is_the_first(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="the main screen")
        assert not any(isinstance(s, StartScreen) for s in app.screen_stack)
        assert app._held_input is None
