"""Buttons by key, the action bar, Remix's prompt dialog, zoom, history recall, small terminals."""

from __future__ import annotations

import pytest
from support.keys import fresh_key
from ui_helpers import (
    Recorder,
    custom_zoom_dialog,
    finished_grid,
    frozen_jobs,
    in_the_bar,
    main_screen,
    make_app,
    make_launch,
    screen_shown,
    single_image,
    until_idle,
    wait_for,
)

from mj_tui.core.models import ButtonKind, Status
from mj_tui.ui.screens.modal_prompt import PromptDialog


async def test_remix_opens_prompt_dialog_and_sends_the_edit(emulator, control, tmp_path, graphics):
    control.post("/_emulator/config", json={"remix": True})
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        grid = await finished_grid(pilot, screen, "a koi pond")
        screen.set_focus(screen.tasks)
        await pilot.press("v", "1")
        dialog = await screen_shown(pilot, PromptDialog, what="dialog")
        assert "a koi pond" in dialog.query_one("#dialog-prompt").text
        await pilot.press("space", "a", "t", "space", "n", "i", "g", "h", "t")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
        child = await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.id != grid.id and t.status == Status.SUCCESS and t,
            what="remixed variation",
        )
        assert child.prompt.endswith("at night")
        assert not notes.titles("error"), notes.text()


async def test_action_bar_arrows_and_enter_press_a_button(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        grid = await finished_grid(pilot, screen, "a paper crane")
        screen.set_focus(screen.tasks)
        await pilot.press("a")  # focus the action bar
        assert app.focused is screen.actions
        labels = [b.display for b in screen.actions.buttons]
        assert labels[:5] == ["U1", "U2", "U3", "U4", "🔄"]
        await pilot.press("right", "right", "enter")  # U3
        u3 = await wait_for(pilot, lambda: (t := screen.tasks.current) and t.id != grid.id and t, what="U3")
        assert u3.origin_custom_id and "upsample::3" in u3.origin_custom_id
        await wait_for(
            pilot,
            lambda: screen.tasks.current.status == Status.SUCCESS and in_the_bar(screen, screen.tasks.current),
            what="U3 done, its buttons in the bar",
        )
        # a single image offers Midjourney's own labels
        displays = [b.display for b in screen.actions.buttons]
        assert "🪄 Vary (Strong)" in displays and "🔍 Zoom Out 2x" in displays and "⬅️" in displays
        # up/down go to the line above/below (the bar wraps), not along the line
        bar = screen.actions
        lines = bar._lines(bar.content_size.width)
        assert len(lines) > 1
        bar.cursor = lines[0][0]
        await pilot.press("down")
        assert bar.cursor in lines[1]
        await pilot.press("up")
        assert bar.cursor == lines[0][0]
        await pilot.press("escape")  # back to the list
        assert app.focused is screen.tasks
        await pilot.press("a")
        # OhMyGPT has no dialog step: Custom Zoom is dimmed, and pressing it explains, sends nothing
        assert set(bar.unavailable) == {ButtonKind.CUSTOM_ZOOM}
        custom = bar.find(ButtonKind.CUSTOM_ZOOM)
        assert custom is not None  # Midjourney offers it; the dialect cannot take it
        notes = Recorder(app)
        bar.action_press_index(bar.buttons.index(custom))
        await wait_for(pilot, lambda: "Custom Zoom" in notes.titles("warning"), what="explained")


async def test_zoom_keys_and_reroll(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        grid = await finished_grid(pilot, screen, "a glass greenhouse")
        screen.set_focus(screen.tasks)
        await wait_for(pilot, lambda: screen.preview.shown, what="grid shown")
        await pilot.press("3")
        await wait_for(pilot, lambda: screen.preview.shown and screen.preview.shown.quadrant == 3, what="zoom 3")
        assert not screen.preview.query_one("#quad-top").display
        assert "bottom-left" in str(screen.preview.query_one("#preview-caption").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.preview.shown.quadrant is None, what="whole grid")
        await pilot.press("4", "v")  # zoomed: v alone varies quadrant 4
        child = await wait_for(pilot, lambda: (t := screen.tasks.current) and t.id != grid.id and t, what="V4")
        assert "variation::4" in child.origin_custom_id
        await wait_for(
            pilot,
            lambda: (t := screen.tasks.current).status == Status.SUCCESS and t.is_grid and in_the_bar(screen, t),
            what="V4 done, its buttons in the bar",
        )
        await pilot.press("r")
        await wait_for(pilot, lambda: "reroll" in (screen.tasks.current.origin_custom_id or ""), what="reroll")


async def test_prompt_history_is_recalled_and_kept_across_runs(emulator, tmp_path, graphics):
    launch = make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key())
    app = make_app(launch, graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app)
        for prompt in ("first prompt", "second prompt"):
            screen.composer.text_area.text = prompt
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: screen.composer.text_area.text == "", what="sent")
    app = make_app(launch, graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app)
        area = screen.composer.text_area
        area.focus()
        await pilot.press("h", "i")
        await pilot.press("ctrl+up")
        assert area.text == "second prompt"
        await pilot.press("alt+up")
        assert area.text == "first prompt"
        await pilot.press("ctrl+down", "ctrl+down")
        assert area.text == "hi"  # the unsent draft comes back


async def test_small_terminal_reflows_and_preview_toggles(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history"), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app)
        await wait_for(pilot, lambda: screen.preview.shown, what="preview")
        assert screen.has_class("-narrow") and screen.has_class("-short")
        for pane in (screen.tasks, screen.composer, screen.preview, screen.actions):
            region = pane.region
            assert region.width >= 30 and region.height >= 3 and region.right <= 80 and region.bottom <= 24, pane
        screen.set_focus(screen.tasks)
        wide = screen.tasks.region.width
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.tasks.region.width != wide, what="the list laid out again")
        assert not screen.query_one("#right").display and screen.tasks.region.width > 70
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.tasks.region.width == wide, what="the list laid out again")
        assert screen.query_one("#right").display
        await pilot.press("tab")
        assert app.focused is screen.composer.text_area
        await pilot.resize_terminal(120, 40)
        await until_idle(pilot)  # the resize handled: the screen's size classes follow it
        assert screen.has_class("-wide") and screen.has_class("-tall")


async def test_custom_zoom_opens_dialog_with_a_zoom_value(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        single = await single_image(pilot, screen, "a whale in the clouds")
        dialog = await custom_zoom_dialog(pilot, screen, single)
        assert dialog.query_one("#dialog-prompt").text.endswith("--zoom 2")
        await pilot.press("ctrl+s")
        zoomed = await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.parent_id == single.id and t.status == Status.SUCCESS and t,
            what="zoomed",
        )
        assert zoomed.is_grid
        assert not notes.titles("error"), notes.text()


@pytest.mark.parametrize("job_seconds", [0, 3], ids=["done-first", "page-first"])
async def test_a_prompt_sent_while_the_first_page_loads_stays_listed(
    emulator, control, tmp_path, graphics, job_seconds
):
    # the history page asked for at start comes back after the submit (a slow link, a busy
    # box): what it says is older than the submit, and must not take the new task off the
    # list (its progress would have nowhere to show) nor move a finished one back
    if job_seconds:  # page first: the job runs until the test moves the clock on, after the page
        frozen_jobs(control, job_seconds)
    control.post(
        "/_emulator/faults", json={"next": [{"kind": "slow_answer", "seconds": 1.0}], "path_contains": "query-mj-tasks"}
    )
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for(
            pilot,
            lambda: control.get("/_emulator/state").json()["faults_pending"] == 0 and app.screen,
            what="the page asked for",
        )
        screen.composer.text_area.text = "a heron at dawn"
        screen.composer.text_area.focus()
        await pilot.press("ctrl+j")
        sent = await wait_for(pilot, lambda: screen.tasks.current, what="the submit")
        await wait_for(
            pilot, lambda: not any(w.group == "page" and w.is_running for w in app.workers), what="the slow page"
        )
        assert [t.id for t in screen.tasks.tasks] == [sent.id]
        assert screen.tasks.current.id == sent.id and screen.tasks.page.total == 1
        assert (screen.tasks.current.status == Status.SUCCESS) == (job_seconds == 0)
        control.post("/_emulator/clock", json={"advance": job_seconds})
        await wait_for(pilot, lambda: screen.tasks.current.status == Status.SUCCESS, what="done")
        assert [t.id for t in screen.tasks.tasks] == [sent.id]
