"""Failures become toasts and the app carries on; server text is shown literally."""

from __future__ import annotations

from datetime import UTC

import pytest
from support.keys import fresh_key
from textual import events
from ui_helpers import Recorder, main_screen, make_app, make_launch, wait_for

from mj_tui.core.models import ProviderKind, Status, Task
from mj_tui.ui.task_format import row_runs
from mj_tui.ui.text import clean


def plain(task: Task, now, *, compact: bool = False) -> str:
    """A task-list row's text, as drawn."""
    return "".join(text for text, _ in row_runs(task, now, compact=compact))


PROVIDERS = ["ohmygpt", "mjproxy"]


async def send(pilot, screen, text: str) -> None:
    screen.composer.text_area.text = text
    screen.composer.text_area.focus()
    await pilot.press("ctrl+j")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_server_error_becomes_a_toast_and_the_app_survives(provider, emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        control.post("/_emulator/faults", json={"next": [{"kind": "http", "status": 503}], "path_contains": "imagine"})
        await send(pilot, screen, "a lighthouse")
        await wait_for(pilot, lambda: notes.titles("error"), what="error toast")
        assert notes.titles("error") == ["Server error"]  # a 503 made nothing: not kept as unconfirmed
        assert "Traceback" not in notes.text()
        assert screen.composer.text_area.text == "a lighthouse"  # nothing lost
        assert app.screen is screen and app.is_running
        screen.composer.text_area.focus()
        await pilot.press("ctrl+s")  # the same prompt again, on purpose: now accepted
        await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.prompt == "a lighthouse" and t.status != Status.UNCONFIRMED,
            what="sent",
        )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_banned_prompt_is_refused_with_a_readable_toast(provider, emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app)
        await send(pilot, screen, "a gore scene")
        await wait_for(pilot, lambda: notes.titles("error"), what="error toast")
        _severity, title, message = notes.items[-1]
        assert title == "Prompt refused" and "gore" in message


async def test_prompt_with_markup_and_escape_shows_literally(emulator, tmp_path, graphics):
    prompt = "[bold]fox[/bold] \x1b[31mred $accent"
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await send(pilot, screen, prompt)
        await wait_for(pilot, lambda: screen.tasks.current and "fox" in screen.tasks.current.prompt)
        # while the job runs its row has a progress bar and less room for the prompt: wait
        # for the row in full (markup read as markup would never show these words)
        row = await wait_for(
            pilot,
            lambda: "[bold]fox[/bold] ␛[31mred $accent" in (text := screen.tasks.render_line(0).text) and text,
            what="the prompt, literal, in its row",
        )
        assert "\x1b" not in row
        caption = screen.preview.query_one("#preview-prompt").render()
        assert "[bold]fox[/bold] ␛[31mred" in str(caption)


def test_failure_reason_and_control_characters_in_rows():
    from datetime import datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    task = Task(
        id="7",
        provider=ProviderKind.OHMYGPT,
        status=Status.FAILURE,
        prompt="a [red]cat[/]",
        fail_reason="[Banned prompt] bad\x07word\u202e",
    )
    text = plain(task, now)
    assert "a [red]cat[/]" in text
    assert "[Banned prompt] bad␇word" in text and "\u202e" not in text
    assert clean("a\nb\tc", one_line=True) == "a b c"


async def test_failed_task_is_announced_and_its_reason_shown(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await send(pilot, screen, "a forbidden fruit")  # moderated: fails after submit
        task = await wait_for(
            pilot, lambda: (t := screen.tasks.current) and t.status == Status.FAILURE and t, what="failure"
        )
        await wait_for(pilot, lambda: "Failed" in notes.titles("error"), what="failure toast")
        await wait_for(  # under the row, cut to fit (the row grew a line: drawn at the next refresh)
            pilot, lambda: "[Banned prompt detected]" in screen.tasks.render_line(1).text, what="the reason's line"
        )
        state = str(screen.preview.query_one("#preview-state").render())
        assert "Failed" in state and task.fail_reason in state  # whole, in the preview


async def test_unreachable_image_is_a_pane_state_not_a_crash(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        await wait_for(
            pilot,
            lambda: screen.service and not any(w.group == "page" for w in screen.workers),
            what="connected, page loaded",
        )
        ghost = Task(
            id="ghost",
            provider=ProviderKind.OHMYGPT,
            status=Status.SUCCESS,
            prompt="gone",
            image_url="http://127.0.0.1:9/gone.png",
            image_urls=("http://127.0.0.1:9/gone.png",),
        )
        screen.preview.show(ghost)
        state = screen.preview.query_one("#preview-state")
        await wait_for(pilot, lambda: "Image unavailable" in str(state.render()), what="unavailable state")
        assert app.is_running


async def test_ctrl_j_right_after_fast_typing_sends_the_whole_prompt(emulator, tmp_path, graphics):
    """A paste or type-ahead over a slow link arrives in one burst with ctrl+j at its end."""
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        prompt = "a red fox in the snow, watercolor"
        for ch in prompt:  # queue the keys without letting the app run in between
            app.post_message(events.Key("space" if ch == " " else ch, ch))
        app.post_message(events.Key("ctrl+j", "\n"))
        task = await wait_for(
            pilot, lambda: screen.tasks.current and screen.tasks.current.prompt and screen.tasks.current, what="sent"
        )
        assert task.prompt == prompt
        assert screen.composer.text_area.text == ""


def test_narrow_forms_keep_their_meaning():
    """80 columns: the list keeps a tag per row, the header keeps units and the word "spent"."""
    from datetime import datetime

    from mj_tui.core.models import Balance
    from mj_tui.ui.widgets.header import balance_text

    now = datetime(2026, 1, 1, tzinfo=UTC)
    grid = Task(id="1", provider=ProviderKind.OHMYGPT, status=Status.SUCCESS, prompt="a owl")
    upscale = grid.with_(id="2", action="UPSCALE", origin_custom_id="MJ::JOB::upsample::2::abc", parent_id="1")
    assert plain(grid, now, compact=True).endswith("img a owl")
    assert plain(upscale, now, compact=True).endswith("U2  a owl")
    assert balance_text(Balance("681500.00", unit="tokens")) == "681,500 tokens"
    assert balance_text(Balance("681500.00", unit="tokens"), short=True) == "681,500 tok"
    assert balance_text(Balance("12.5", unit="USD")) == "12.50 USD"
    assert balance_text(Balance("n/a", unit="tokens")) == "n/a tokens"


def test_typed_paths_split_on_spaces_or_commas_and_quotes_keep_spaces():
    from mj_tui.ui.widgets.composer import split_paths

    assert split_paths("a.png, b.png") == ["a.png", "b.png"]
    assert split_paths("'/tmp/with space/a b.png' ~/c.png") == ["/tmp/with space/a b.png", "~/c.png"]
    assert split_paths("  ") == [] and split_paths("a.png ,") == ["a.png"]
    assert split_paths('"unbalanced.png') == ['"unbalanced.png']
