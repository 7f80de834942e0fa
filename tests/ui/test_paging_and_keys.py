"""Paging, the first-run key flow, the keymap, help and the command palette."""

from __future__ import annotations

from support.keys import fresh_key
from ui_helpers import Recorder, main_screen, make_app, make_launch, paste, screen_shown, until_idle, wait_for

from mj_tui.ui.screens.help import HelpScreen
from mj_tui.ui.screens.main import MainScreen
from mj_tui.ui.screens.welcome import WelcomeScreen


def subtitle(screen) -> str:
    return str(screen.tasks.border_subtitle)


async def test_paging_forward_and_back_ohmygpt(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history"), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await wait_for(pilot, lambda: subtitle(screen) == "page 1 of 2 · total 24", what="page 1")
        first_page = [t.id for t in screen.tasks.tasks]
        screen.set_focus(screen.tasks)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: subtitle(screen) == "page 2 of 2 · total 24", what="page 2")
        await wait_for(pilot, lambda: screen.tasks.tasks and screen.tasks.tasks[0].id not in first_page)
        await pilot.press("right_square_bracket")  # no page 3: the bell, and it stays
        await wait_for(pilot, lambda: notes.bells == 1, what="the bell")
        await until_idle(pilot)
        assert subtitle(screen) == "page 2 of 2 · total 24"
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: [t.id for t in screen.tasks.tasks] == first_page, what="page 1 again")


async def test_paging_mjproxy_local_history_first_frame_from_store(emulator, tmp_path, graphics):
    launch = make_launch(tmp_path, emulator, "mjproxy", key=fresh_key(), page_size=2)
    service = launch.make_service()
    for prompt in ("one", "two", "three"):
        await service.imagine(prompt)
    await service.aclose()
    app = make_app(launch, graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app)
        # the store answers before any network call: the first frame already has the tasks
        assert [t.prompt for t in screen.tasks.tasks] == ["three", "two"]
        assert subtitle(screen) == "page 1 of 2 · total 3"
        screen.set_focus(screen.tasks)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: [t.prompt for t in screen.tasks.tasks] == ["one"], what="page 2")
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: [t.prompt for t in screen.tasks.tasks] == ["three", "two"], what="page 1")


async def test_first_run_saves_key_in_keyring(emulator, tmp_path, graphics, memory_keyring):
    key = fresh_key()
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt"), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        await screen_shown(pilot, WelcomeScreen)
        assert app.screen.query_one("#key-input").password  # masked
        await paste(pilot, key)  # "Paste your API key below"
        await pilot.press("enter")
        screen = await main_screen(pilot, app)
        assert memory_keyring.store[("mj-tui", "test")] == key
        assert app.service is not None and app.launch.key.key.reveal() == key
        await wait_for(pilot, lambda: subtitle(screen) == "page 1 of 1 · total 0", what="empty history")


async def test_first_run_without_keyring_explains_and_uses_session_key(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt"), graphics)  # the null keyring is installed
    async with app.run_test(size=(80, 24)) as pilot:
        await screen_shown(pilot, WelcomeScreen)
        help_text = await wait_for(
            pilot,
            lambda: app.screen.query_one("#keyring-help").display and app.screen.query_one("#keyring-help"),
            what="keyring help",
        )
        assert "MJ_TUI_API_KEY" in str(help_text.render())
        await paste(pilot, fresh_key())
        await pilot.press("enter")
        await main_screen(pilot, app)


async def test_welcome_opens_demo(tmp_path, graphics):
    app = make_app(make_launch(tmp_path, "http://127.0.0.1:9", "ohmygpt"), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        await screen_shown(pilot, WelcomeScreen)
        await pilot.press("f2")
        screen = await main_screen(pilot, app)  # the demo's
        assert app.launch.demo
        # the demo's 24 tasks fill the list's pane: as many rows as it shows (no page size set)
        rows = screen.tasks.scrollable_content_region.height
        await wait_for(pilot, lambda: len(screen.tasks.tasks) == min(24, rows) > 0, what="demo history")
        assert screen.session.page_size == rows


async def test_keymap_help_and_palette(emulator, tmp_path, graphics):
    launch = make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key(), keymap={"submit": "ctrl+o"})
    app = make_app(launch, graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await pilot.press("ctrl+j")  # rebound: no longer sends
        await pilot.press("ctrl+o")  # the keymap's key sends (an empty prompt: a warning)
        assert any("Type a prompt first" in m for _, _, m in notes.items)
        assert sum("Type a prompt first" in m for _, _, m in notes.items) == 1  # ctrl+o's alone
        await pilot.press("f1")
        await screen_shown(pilot, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query(".help-section"))
        assert "^o" in text and "Send the prompt" in text and "Upscale" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        titles = [c.title for c in app.get_system_commands(screen)]
        for expected in (
            "Send the prompt",
            "Next page",
            "Zoom into quadrant 2",
            "Help: show all keys",
            "Actions: focus the action bar (arrows, enter)",
            "Show or hide the preview",
            "Parent: go to the task this one was made from",
        ):
            assert expected in titles, titles


async def test_every_binding_has_id_and_label():
    from mj_tui.ui.app import MjApp
    from mj_tui.ui.keys import bindings_of
    from mj_tui.ui.screens.modal_prompt import PromptDialog
    from mj_tui.ui.widgets.action_bar import ActionBar
    from mj_tui.ui.widgets.composer import Composer

    for binding in bindings_of([MjApp, MainScreen, Composer, ActionBar, PromptDialog, WelcomeScreen]):
        assert binding.id and binding.description, binding
        for bad in ("ctrl+h", "ctrl+m", "ctrl+i", "ctrl+left_square_bracket"):
            assert bad not in binding.key.split(","), binding
        assert binding.key != "ctrl+enter"


async def test_palette_lists_pane_keys_and_task_buttons(emulator, tmp_path, graphics):
    from mj_tui.ui.commands import ButtonCommands

    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history"), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await wait_for(pilot, lambda: screen.actions.buttons, what="buttons")
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Older prompt" in titles and "Press the selected button" in titles
        provider = ButtonCommands(screen)
        hits = [hit async for hit in provider.search("U2")]
        best = max(hits, key=lambda hit: hit.score)
        assert str(best.match_display) == "Press U2 on #24"
