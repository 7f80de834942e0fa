"""The prompt box: lint (errors block, warnings show), completion, permutations, cost."""

from __future__ import annotations

import pytest
from support.keys import fresh_key
from ui_helpers import (
    Recorder,
    frozen_jobs,
    main_screen,
    make_app,
    make_launch,
    paste,
    screen_shown,
    submits,
    type_text,
    until_idle,
    wait_for,
)

from mj_tui.core.models import Status
from mj_tui.ui.screens.confirm import ConfirmDialog
from mj_tui.ui.screens.main import MainScreen

PROVIDERS = ["ohmygpt", "mjproxy"]


async def composing(pilot, app) -> MainScreen:
    """The main screen, connected, the prompt box focused."""
    screen = await main_screen(pilot, app, connected=True)
    screen.set_focus(screen.composer.text_area)
    return screen


def lint_line(screen) -> str:
    line = screen.composer.query_one("#lint")
    return str(line.render()) if line.display else ""


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_lint_errors_block_sending_warnings_do_not(provider, emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await composing(pilot, app)
        await type_text(pilot, "a cat --stylise 2")
        assert "Unknown parameter --stylise" in lint_line(screen)
        assert screen.composer.text_area._highlights  # the culprit is underlined
        before = submits(control)
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: "Prompt not sent" in notes.titles("warning"), what="refused")
        assert "Unknown parameter --stylise" in notes.text() and submits(control) == before
        assert screen.composer.text_area.text == "a cat --stylise 2"  # nothing lost
        screen.composer.text_area.text = ""
        await type_text(pilot, "a cat --q 9 --v 7")  # V7's qualities are known
        assert lint_line(screen).startswith("⚠") and "quality" in lint_line(screen)
        await pilot.press("ctrl+j")
        task = await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.prompt == "a cat --q 9 --v 7" and t,
            what="a warning still sends",
        )
        assert task.status != Status.FAILURE
        await wait_for(pilot, lambda: lint_line(screen) == "", what="box cleared, line gone")


async def test_every_lint_problem_can_be_read_and_a_half_typed_name_is_not_an_error(
    emulator, control, tmp_path, graphics
):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await composing(pilot, app)
        await type_text(pilot, "a cat --st")
        assert lint_line(screen) == ""  # still typing a name that exists (--stylize, --style, --stop)
        await pilot.press("space")
        assert "Unknown parameter --st" in lint_line(screen)  # the name is finished: now it is unknown
        screen.composer.text_area.text = ""
        await type_text(pilot, "a cat --s")
        assert lint_line(screen) == ""  # a known name just typed: its value comes next
        await pilot.press("space")
        assert "needs a value" in lint_line(screen)
        screen.composer.text_area.text = ""
        await paste(pilot, "a cat --ar 0:1 --stylize 5000 --chaoss")  # typing is not the point here: pasted
        assert "(+2 more" in lint_line(screen)
        area = screen.composer.text_area
        # the cursor on an underline shows that problem
        area.move_cursor((0, len("a cat --ar 0:1 --stylize 50")))
        await wait_for(pilot, lambda: "--stylize" in lint_line(screen), what="the line follows the cursor")
        assert "--stylize must be 0–1000" in lint_line(screen)
        area.move_cursor((0, len("a cat --ar 0")))
        await wait_for(pilot, lambda: "--ar" in lint_line(screen), what="the line follows the cursor")
        assert "--ar" in lint_line(screen) and "positive" in lint_line(screen)
        before = submits(control)
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: "Prompt not sent" in notes.titles("warning"), what="refused")
        # the refusal lists every error, not "and 2 more"
        assert all(m in notes.text() for m in ("positive", "0–1000", "--chaoss")), notes.text()
        assert submits(control) == before
        # ctrl+l clears the box in one key; ctrl+z brings it back
        screen.composer.text_area.focus()
        await pilot.press("ctrl+l")
        assert area.text == "" and lint_line(screen) == ""
        await pilot.press("ctrl+z")
        assert area.text == "a cat --ar 0:1 --stylize 5000 --chaoss"


async def test_relax_mode_makes_permutations_an_error(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await composing(pilot, app)
        await type_text(pilot, "a {red, blue} fox")
        assert lint_line(screen) == ""
        await pilot.press("ctrl+t")  # fast -> relax
        assert "Relax" in lint_line(screen) and lint_line(screen).startswith("✘")


async def test_tab_and_ctrl_space_complete_parameters_and_values(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await composing(pilot, app)
        area = screen.composer.text_area
        suggest = screen.composer.query_one("#suggest")
        await type_text(pilot, "a cat --a")
        await pilot.press("tab")  # two names start with "a": a list
        assert suggest.display and suggest.option_count == 2
        await pilot.press("down", "enter")  # --ar
        assert area.text == "a cat --ar "
        assert suggest.display  # its values, right away
        await pilot.press("down", "down", "enter")  # the third value
        assert area.text == "a cat --ar 3:2 " and not suggest.display
        await type_text(pilot, "--qual")
        await pilot.press("tab")  # one match: completed in place
        assert (
            area.text == "a cat --ar 3:2 --quality " and suggest.option_count == 5
        )  # its values offered (.25 .5 1 2 4)
        await pilot.press("escape")
        assert not suggest.display and app.focused is area  # escape closes the list, keeps the box
        await type_text(pilot, "2 plain")
        await pilot.press("tab")  # not in a parameter: tab moves on as always
        assert app.focused is not area and not suggest.display
        area.focus()
        area.move_cursor((0, len("a cat --ar 3:2 --qu")))
        await pilot.press("ctrl+@")  # ctrl+space arrives as ctrl+@ from most terminals
        assert suggest.display


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_permutations_expand_counted_priced_one_imagine_each(provider, emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await composing(pilot, app)
        await type_text(pilot, "a {red, blue} fox")
        subtitle = str(screen.composer.border_subtitle)
        if provider == "ohmygpt":
            assert subtitle == "2 jobs · ≈28,000 tok · ctrl+j send"
        else:  # no published prices: nothing, not "0"
            assert subtitle == "2 jobs · ctrl+j send"
        await pilot.press("ctrl+j")
        await wait_for(
            pilot, lambda: {t.prompt for t in screen.tasks.tasks} >= {"a red fox", "a blue fox"}, what="two imagines"
        )
        assert screen.composer.text_area.text == ""
        assert not notes.titles("error"), notes.text()


async def test_price_of_one_prompt_shows_at_80_columns_and_follows_the_mode(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await composing(pilot, app)
        await type_text(pilot, "a fox")
        assert str(screen.composer.border_subtitle) == "≈14,000 tok · ctrl+j send"
        await pilot.press("ctrl+t")  # relax is half price
        await wait_for(
            pilot, lambda: str(screen.composer.border_subtitle) == "≈7,000 tok · ctrl+j send", what="relax price"
        )


async def test_more_than_four_jobs_asks_first(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await composing(pilot, app)
        await paste(pilot, "a {red, blue, green} {fox, owl}")
        assert str(screen.composer.border_subtitle).startswith("6 jobs · ≈84,000 tok")
        before = submits(control)
        await pilot.press("ctrl+j")
        dialog = await screen_shown(pilot, ConfirmDialog, what="question")
        assert "6 jobs" in str(dialog.query_one("#confirm-text").render())
        await pilot.press("enter")  # Cancel has the focus: a stray enter sends nothing
        await wait_for(pilot, lambda: app.screen is screen, what="cancelled")
        assert submits(control) == before
        await pilot.press("ctrl+j")
        await screen_shown(pilot, ConfirmDialog, what="question again")
        await pilot.press("y")  # all six into the local queue: three now, the rest as slots free up
        await wait_for(
            pilot,
            lambda: len({t.prompt for t in screen.tasks.tasks if t.prompt.startswith("a ")}) == 6,
            what="six imagines",
        )
        assert submits(control) - before == 6  # each once


async def test_a_failed_permutation_stops_and_nothing_is_resent(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await composing(pilot, app)
        control.post(
            "/_emulator/faults",
            json={
                "next": [{"kind": "delay", "seconds": 0}, {"kind": "http", "status": 503}],
                "path_contains": "imagine",
            },
        )
        state = control.get("/_emulator/state").json()["requests"]
        imagines_before = sum(n for path, n in state.items() if "imagine" in path)
        await paste(pilot, "a {red, blue, green} kite")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: notes.titles("error"), what="error")
        assert "Sent 1 of 3" in notes.text() and "were not sent" in notes.text()
        await until_idle(pilot)  # the sending worker done: a retry would have reached the emulator
        assert not screen.session.sending
        state = control.get("/_emulator/state").json()["requests"]
        assert sum(n for path, n in state.items() if "imagine" in path) - imagines_before == 2  # never resent
        assert [t.prompt for t in screen.tasks.tasks if "kite" in t.prompt] == ["a red kite"]
        assert screen.composer.text_area.text == "a {red, blue, green} kite"  # kept to fix and resend


async def test_repeat_counts_jobs(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await composing(pilot, app)
        await type_text(pilot, "a fox --r 3")
        assert str(screen.composer.border_subtitle) == "3 jobs · ctrl+j send"


async def test_more_prompts_than_queue_room_asks_first(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)  # OhMyGPT: 3 at once
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await composing(pilot, app)
        assert "queue 0/3" in str(screen.query_one("AppHeader").render())
        await paste(pilot, "a {red, blue, green, pink} fox")
        before = submits(control)
        await pilot.press("ctrl+j")
        dialog = await screen_shown(pilot, ConfirmDialog, what="question")
        assert "room for 3" in str(dialog.query_one("#confirm-text").render())
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, what="cancelled")
        assert submits(control) == before


async def test_send_what_fits_then_the_rest_never_twice(emulator, control, tmp_path, graphics):
    frozen_jobs(control)  # jobs stay running: the queue of 3 fills and stays full
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await composing(pilot, app)
        await paste(pilot, "a {red, blue, green, pink} fox")
        before = submits(control)
        await pilot.press("ctrl+j")
        dialog = await screen_shown(pilot, ConfirmDialog, what="question")
        # the local queue is offered first; "Send 3 now" sends what fits and keeps the rest
        assert str(dialog.query_one("#yes").label).startswith("Queue 4")
        assert str(dialog.query_one("#alt").label).startswith("Send 3 now")
        await pilot.press("a")
        await wait_for(pilot, lambda: submits(control) - before == 3 and not screen.session.sending, what="three sent")
        assert screen.composer.text_area.text == "a {red, blue, green, pink} fox"  # the rest is still to send
        # a job finishes: room for one; the same text now sends only the prompt not sent yet
        control.post("/_emulator/clock", json={"advance": 60})
        await wait_for(pilot, lambda: screen.session.queue_room(), what="room", timeout=30)
        # three finished in one poll: one toast for the three, not a stack over the preview
        assert notes.titles().count("Done") == 1 and "3 tasks" in notes.text(), notes.text()
        screen.composer.text_area.focus()
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: submits(control) - before == 4 and not screen.session.sending, what="the fourth")
        await wait_for(pilot, lambda: screen.composer.text_area.text == "", what="box cleared")
        prompts = sorted(t.prompt for t in screen.tasks.tasks if t.prompt.endswith(" fox"))
        assert prompts == ["a blue fox", "a green fox", "a pink fox", "a red fox"]
