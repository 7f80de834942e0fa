"""Header facts (balance, queue), reference images, the key screen, the mouse."""

from __future__ import annotations

from PIL import Image
from support.keys import fresh_key
from ui_helpers import Recorder, frozen_jobs, main_screen, make_app, make_launch, paste, screen_shown, submits, wait_for

from mj_tui.ui.screens.key import KeyScreen
from mj_tui.ui.widgets.header import AppHeader


def header_text(screen) -> str:
    return str(screen.query_one(AppHeader).render())


async def test_balance_shown_for_admin_key_hidden_otherwise(emulator, control, tmp_path, graphics):
    admin, plain = fresh_key(), fresh_key()
    control.post("/_emulator/accounts", json={"key": plain, "admin": False})
    for key, shown in ((admin, True), (plain, False)):
        app = make_app(make_launch(tmp_path / key, emulator, "ohmygpt", key=key), graphics)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await main_screen(pilot, app)
            await wait_for(
                pilot,
                lambda screen=screen: screen.service and not any(w.group == "balance" for w in screen.workers),
                what="balance",
            )
            assert ("balance" in header_text(screen)) is shown, header_text(screen)
            assert "OhMyGPT" in header_text(screen) and "profile test" in header_text(screen)


async def test_queue_use_and_limit_in_header(emulator, control, tmp_path, graphics):
    frozen_jobs(control)  # jobs stay running: the queue of 3 fills and stays full
    # the profile guesses 5 at once; the server allows 3 and its "queue full" says so
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key(), queue_limit=5), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        for n in range(4):  # OhMyGPT allows 3 unfinished tasks per key
            screen.composer.text_area.text = f"job {n}"
            await pilot.press("ctrl+j")
            await wait_for(
                pilot,
                lambda: not screen.session.sending and screen.composer.text_area.text == "",
                what=f"job {n}",
            )
        # the fourth was refused by the server (nothing made): it waits in the local queue
        await wait_for(pilot, lambda: "Queued" in notes.titles(), what="queued")
        await wait_for(pilot, lambda: "queue 3/3 +1" in header_text(screen), what="header")
        assert not notes.titles("error")
        # and the next prompt goes straight to the queue: the provider is known to be full
        before = submits(control)
        screen.composer.text_area.text = "job 4"
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: "queue 3/3 +2" in header_text(screen), what="queued without a request")
        assert submits(control) == before


async def test_reference_image_is_sent_and_a_missing_one_refused(emulator, tmp_path, graphics):
    picture = tmp_path / "ref one.png"
    Image.new("RGB", (64, 64), "blue").save(picture)
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        refs = screen.query_one("#refs")
        refs.value = str(tmp_path / "missing.png")
        screen.composer.text_area.text = "a blue square"
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: notes.titles("error"), what="refusal")
        assert notes.titles("error") == ["Request refused"] and "missing.png" in notes.items[-1][2]
        assert app.service.request_count == 2  # page + balance: nothing was submitted
        refs.value = f'"{picture}"'
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: (t := screen.tasks.current) and t.prompt.endswith("a blue square"))
        assert refs.value == ""


async def test_key_screen_changes_the_key_and_reconnects(emulator, tmp_path, graphics, memory_keyring):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        old_service = (await main_screen(pilot, app)).service
        await pilot.press("f2")
        await screen_shown(pilot, KeyScreen, what="key screen")
        new_key = fresh_key()
        await paste(pilot, new_key)  # as a key is given: pasted
        await pilot.press("enter")
        screen = await main_screen(pilot, app)
        await wait_for(pilot, lambda: app.service is not old_service and app.launch.key.key.reveal() == new_key)
        assert memory_keyring.store[("mj-tui", "test")] == new_key
        await pilot.press("f2")
        await screen_shown(pilot, KeyScreen, what="key screen again")
        await pilot.click("#delete-key")
        await wait_for(pilot, lambda: ("mj-tui", "test") not in memory_keyring.store, what="deleted")
        await pilot.press("escape")
        assert app.screen is screen


async def test_mouse_selects_a_task_and_presses_a_button(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history"), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await wait_for(pilot, lambda: len(screen.tasks.tasks) == 12, what="history")
        row = next(i for i, t in enumerate(screen.tasks.tasks) if i > 0 and t.is_grid)
        target = screen.tasks.tasks[row]
        await pilot.click("#tasks", offset=(5, row + 1))  # the border is row 0
        await wait_for(pilot, lambda: screen.tasks.current is target and screen.actions.shown_task is target)
        await pilot.click("#actions", offset=(9, 1))  # the second chip: U2
        child = await wait_for(pilot, lambda: (t := screen.tasks.current) and t.parent_id == target.id and t)
        assert "upsample::2" in child.origin_custom_id


async def test_theme_from_config_and_graphics_off(emulator, tmp_path):
    from mj_tui.ui.graphics import load_graphics

    launch = make_launch(tmp_path, emulator, "ohmygpt", key="sk-history")
    launch.config.theme = "nord"
    app = make_app(launch, load_graphics("none"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app)
        assert app.theme == "nord"
        state = screen.preview.query_one("#preview-state")
        await wait_for(pilot, lambda: "previews are off" in str(state.render()), what="text-only preview")
    launch.config.theme = "no-such-theme"
    app = make_app(launch, load_graphics("none"))
    notes = Recorder(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await main_screen(pilot, app)
        await wait_for(pilot, lambda: "Unknown theme" in notes.text(), what="the unknown theme said")


def test_graphics_choices_resolve(graphics):
    from mj_tui.ui.graphics import load_graphics

    assert graphics.name == "halfcell" and graphics.pixels_per_cell == (1, 2)
    assert load_graphics("unicode").name == "unicode"
    tgp = load_graphics("tgp")
    assert tgp.name == "tgp" and tgp.pixels_per_cell == (10, 20)
    sixel = load_graphics("sixel")
    assert sixel.name == "sixel" and sixel.pixels_per_cell == (10, 20)
    # both encode in the preview's worker thread (kitty_image.py, sixel_image.py)
    assert all(callable(getattr(g.image_class, "prepare", None)) for g in (tgp, sixel))
    assert load_graphics("none").image_class is None


async def test_modes_come_from_the_provider_and_ctrl_t_cycles(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await wait_for(pilot, lambda: screen.service is not None, what="service")
        assert [m.value for m in screen.composer.modes] == ["fast", "relax", "turbo"]
        await pilot.press("ctrl+t")
        assert screen.composer.mode.value == "relax" and "mode relax" in header_text(screen)
        await pilot.press("ctrl+t", "ctrl+t")
        assert screen.composer.mode.value == "fast"


async def test_the_mode_chip_steps_with_keys_and_clicks(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await wait_for(pilot, lambda: screen.service is not None, what="service")
        chip = screen.composer.query_one("#mode")
        chip.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "mode relax" in header_text(screen), what="relax in the header")
        await pilot.press("left", "left")
        assert screen.composer.mode.value == "turbo"  # wraps round
        await pilot.click("#mode")
        await wait_for(pilot, lambda: "mode fast" in header_text(screen), what="fast in the header")
        assert "fast" in str(chip.render())
