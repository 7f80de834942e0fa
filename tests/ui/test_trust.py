"""What a new user tripped on in the TUI, each checked the way they met it (real keys, real HTTP)."""

from __future__ import annotations

import tomllib

from support.keys import fresh_key
from ui_helpers import Recorder, make_app, make_launch, until_idle, wait_for

from mj_tui.core.models import ButtonKind, Status
from mj_tui.ui.screens.confirm import ConfirmDialog
from mj_tui.ui.screens.main import MainScreen
from mj_tui.ui.screens.modal_prompt import PromptDialog


async def started(pilot, app) -> MainScreen:
    return await wait_for(
        pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.service and app.screen, what="connected"
    )


async def sent(pilot, screen: MainScreen, prompt: str):
    screen.composer.text_area.text = prompt
    screen.composer.text_area.focus()
    await pilot.press("ctrl+j")
    return await wait_for(
        pilot, lambda: (t := screen.tasks.current) and t.prompt == prompt and t, what=f"{prompt!r} on the list"
    )


async def upscale(pilot, screen: MainScreen, prompt: str):
    grid = await sent(pilot, screen, prompt)
    await wait_for(pilot, lambda: screen.tasks.current.status == Status.SUCCESS, what="grid done")
    screen.set_focus(screen.tasks)
    await pilot.press("u", "2")
    return await wait_for(
        pilot,
        lambda: (t := screen.tasks.current) and t.id != grid.id and t.status == Status.SUCCESS and t,
        what="U2 done",
    )


def row(screen: MainScreen, line: int) -> str:
    return screen.tasks.render_line(line).text


async def test_a_sent_custom_zoom_stops_waiting_and_leaves_no_blank_row(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        single = await upscale(pilot, screen, "a heron at dawn")
        screen.press(single, next(b for b in single.buttons if b.kind == ButtonKind.CUSTOM_ZOOM))
        dialog = await wait_for(pilot, lambda: isinstance(app.screen, PromptDialog) and app.screen, what="dialog")
        assert "waits for its prompt" in row(screen, 1)  # the MODAL task's second line
        dialog.query_one("#dialog-prompt").text = "a heron at dawn --zoom 1.5"
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: screen.tasks.current.status == Status.SUCCESS, what="zoom done")
        assert "waits" not in row(screen, 0) + row(screen, 1)
        # the next line is the next task (the upscale), not a blank left by the "waits" line
        assert single.prompt in row(screen, 1) and "U2" in row(screen, 1)


async def test_a_task_left_waiting_for_its_prompt_can_be_dismissed(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        single = await upscale(pilot, screen, "a kettle")
        screen.press(single, next(b for b in single.buttons if b.kind == ButtonKind.CUSTOM_ZOOM))
        await wait_for(pilot, lambda: isinstance(app.screen, PromptDialog), what="dialog")
        await pilot.press("escape")
        waiting = await wait_for(
            pilot, lambda: (t := screen.tasks.current) and t.status == Status.MODAL and t, what="waiting"
        )
        screen.set_focus(screen.tasks)
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.tasks.current.status == Status.CANCEL, what="dismissed")
        assert "waits" not in row(screen, 0) and "no longer waits" in notes.text()
        assert app.service.get_cached(waiting.id).status == Status.CANCEL  # kept so
        await pilot.press("x")  # nothing to dismiss now: says so, changes nothing
        await wait_for(pilot, lambda: "one that waits for its prompt" in notes.text(), what="refusal")


async def test_the_selected_row_and_the_button_cursor_are_marked_without_colour(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await sent(pilot, screen, "a marked fox")
        await sent(pilot, screen, "another fox")
        assert row(screen, 0).startswith("▶") and not row(screen, 1).startswith("▶")
        screen.set_focus(screen.tasks)
        await pilot.press("down")
        assert not row(screen, 0).startswith("▶") and row(screen, 1).startswith("▶")
        await wait_for(pilot, lambda: screen.actions.buttons, what="buttons")
        await pilot.press("a")
        assert "›U1‹" in screen.actions.render().plain


async def test_no_toast_per_submit_and_a_dimmed_button_says_why(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        single = await upscale(pilot, screen, "a quiet owl")
        # the list and the preview say what was sent: no toast hid the preview's caption
        assert "Submitted" not in notes.titles()
        bar = screen.actions
        await wait_for(pilot, lambda: bar.buttons == single.buttons, what="the upscale's buttons")
        screen.set_focus(bar)
        bar.cursor = next(i for i, b in enumerate(bar.buttons) if b.kind == ButtonKind.CUSTOM_ZOOM)
        await wait_for(pilot, lambda: "no Custom Zoom" in str(bar.border_subtitle), what="the reason, unpressed")


async def test_the_action_bar_says_which_way_more_is(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        single = await upscale(pilot, screen, "a narrow bar")
        bar = screen.actions
        await wait_for(pilot, lambda: bar.buttons == single.buttons, what="buttons")
        screen.set_focus(bar)
        await wait_for(pilot, lambda: "↓ more" in str(bar.border_subtitle), what="more below")
        await pilot.press("end")
        await wait_for(pilot, lambda: "↑ more" in str(bar.border_subtitle), what="more above, none below")
        assert "↓" not in str(bar.border_subtitle)


async def test_a_theme_picked_in_the_app_is_saved_and_says_where(emulator, tmp_path, graphics):
    launch = make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key())
    path = tmp_path / "config" / "settings.toml"
    path.parent.mkdir(parents=True)
    path.write_text('# mine\ndefault_profile = "ohmygpt"\n\n[ui]\ngraphics = "auto"  # kept\n')
    launch.config.path = path
    app = make_app(launch, graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        app.theme = "nord"
        await wait_for(pilot, lambda: "Theme nord" in notes.titles(), what="saved")
        assert str(path) in notes.text()
    saved = path.read_text()
    assert tomllib.loads(saved)["ui"] == {"theme": "nord", "graphics": "auto"}
    assert "# mine" in saved and "# kept" in saved  # the person's file is kept as it was


async def test_quit_with_jobs_running_asks_once(emulator, control, tmp_path, graphics):
    control.post("/_emulator/config", json={"job_seconds": 60})
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await sent(pilot, screen, "a slow job")
        await wait_for(pilot, lambda: screen.session.running == 1, what="running")
        await pilot.press("ctrl+q")
        question = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="asked")
        assert "1 job is still running" in str(question.query_one("#confirm-text").render())
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, what="stayed")
        assert app.is_running
        await pilot.press("ctrl+q", "ctrl+q")  # the question, and quit from it
        await wait_for(pilot, lambda: not app.is_running, what="quit")


async def test_a_reroll_reads_reroll_from_the_start(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await started(pilot, app)
        grid = await sent(pilot, screen, "a reroll")
        await wait_for(pilot, lambda: screen.tasks.current.status == Status.SUCCESS, what="grid done")
        control.post("/_emulator/clock", json={"freeze": True})  # the reroll stays queued
        screen.set_focus(screen.tasks)
        await pilot.press("r")
        queued = await wait_for(pilot, lambda: (t := screen.tasks.current) and t.id != grid.id and t, what="reroll")
        assert queued.status.in_flight and "reroll" in row(screen, 0) and "imagine" not in row(screen, 0)


async def test_footer_and_header_drop_whole_items_at_80_columns(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        footer = str(screen.query_one("KeyFooter").render())
        assert footer.lstrip().startswith("esc Task keys")  # the way from the prompt box to the task keys
        screen.set_focus(screen.tasks)
        await sent(pilot, screen, "a fox")
        screen.set_focus(screen.tasks)
        await pilot.pause()
        footer = str(screen.query_one("KeyFooter").render())
        words = footer.split("▏")[0].split()
        assert not any(w.endswith("…") and len(w) > 1 for w in words), footer  # "Actio…" cut mid-word
        # the job's own charge comes with its task (submit or finish): done first, so it
        # cannot land after the long spend below and change the number looked for
        await wait_for(pilot, lambda: screen.tasks.current.status == Status.SUCCESS, what="the job done")
        await until_idle(pilot)
        screen.session.service.session_spend = 115_500_000  # a long session's spend
        screen.session.changed()
        header = screen.header
        await wait_for(pilot, lambda: "115,500,000" in str(header.render()), what="the spend shown")
        text = str(header.render())
        assert "…" not in text and len(text) <= 80 and "spent 115,500,000" in text


async def test_an_unconfirmed_prompt_is_sent_again_only_when_asked(emulator, control, tmp_path, graphics):
    from ui_helpers import submits

    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        control.post("/_emulator/faults", json={"next": [{"kind": "drop"}], "path_contains": "imagine"})
        before = submits(control)
        screen.composer.text_area.text = "a lost heron"
        await pilot.press("ctrl+j")
        lost = await wait_for(
            pilot, lambda: (t := screen.tasks.current) and t.status == Status.UNCONFIRMED and t, what="unconfirmed"
        )
        assert submits(control) == before + 1  # the one request; nothing resent on its own
        screen.set_focus(screen.tasks)
        await pilot.press("enter")
        question = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen, what="asked")
        assert "may already be at the provider" in str(question.query_one("#confirm-text").render())
        await pilot.press("y")
        await wait_for(pilot, lambda: submits(control) == before + 2, what="sent again")
        await wait_for(
            pilot,
            lambda: (t := screen.tasks.find(lost.id)) is not None and t.status == Status.CANCEL,
            what="the unconfirmed entry settled",
        )
