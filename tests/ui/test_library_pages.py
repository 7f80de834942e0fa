"""The task list fills its pane, and every page is a key away (first, last, any by number)."""

from __future__ import annotations

import math

from ui_helpers import main_screen, make_app, make_launch, paste, screen_shown, until_idle, wait_for

from mj_tui.ui.screens.ask import AskDialog


def subtitle(screen) -> str:
    return str(screen.tasks.border_subtitle)


async def test_the_list_holds_as_many_tasks_as_its_pane_shows_and_follows_a_resize(emulator, tmp_path, graphics):
    # no page size set: the pane decides (the emulator's account holds 24 tasks)
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        rows = screen.tasks.scrollable_content_region.height
        assert 5 < rows < 24
        await wait_for(pilot, lambda: len(screen.tasks.tasks) == rows, what="a full pane")
        assert subtitle(screen) == f"page 1 of {math.ceil(24 / rows)} · total 24"
        screen.set_focus(screen.tasks)
        await pilot.press("down", "down")
        chosen = screen.tasks.current
        await pilot.resize_terminal(120, 44)
        taller = await wait_for(
            pilot, lambda: (n := screen.tasks.scrollable_content_region.height) > rows and n, what="a taller pane"
        )
        await wait_for(pilot, lambda: len(screen.tasks.tasks) == min(24, taller), what="more rows")
        assert screen.tasks.current.id == chosen.id  # the selection stays
        await pilot.resize_terminal(120, 30)
        await wait_for(pilot, lambda: len(screen.tasks.tasks) == rows, what="fewer rows again")
        assert screen.tasks.current.id == chosen.id


async def test_first_last_and_any_page(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=5), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await wait_for(pilot, lambda: subtitle(screen) == "page 1 of 5 · total 24", what="page 1")
        screen.set_focus(screen.tasks)
        await pilot.press("right_curly_bracket")  # }
        await wait_for(pilot, lambda: subtitle(screen) == "page 5 of 5 · total 24", what="the last page")
        assert len(screen.tasks.tasks) == 4
        await pilot.press("left_curly_bracket")  # {
        await wait_for(pilot, lambda: subtitle(screen) == "page 1 of 5 · total 24", what="the first page")
        # the palette's "Go to page…"
        await pilot.press("ctrl+p")
        await paste(pilot, "Go to page")
        await until_idle(pilot)
        await pilot.press("enter")
        dialog = await screen_shown(pilot, AskDialog, what="the question")
        await pilot.press("ctrl+u")  # the field starts with the current page
        await paste(pilot, "9")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "from 1 to 5" in str(dialog.query_one("#ask-error").render()), what="refused")
        await pilot.press("backspace")
        await paste(pilot, "3")
        await pilot.press("enter")
        await wait_for(pilot, lambda: subtitle(screen) == "page 3 of 5 · total 24", what="page 3")
