"""The local job queue in the TUI, with real key presses against the emulator: prompts
queued past the provider's limit flow as slots free up; the queue view pauses, reorders,
cancels; quitting asks once, and the next start resumes what waits."""

from __future__ import annotations

import pytest
from support.keys import fresh_key
from ui_helpers import (
    Recorder,
    frozen_jobs,
    main_screen,
    make_app,
    make_launch,
    screen_shown,
    submits,
    type_text,
    wait_for,
)

from mj_tui.core.queue import JobState
from mj_tui.ui.screens.confirm import ConfirmDialog
from mj_tui.ui.screens.queue import QueueScreen

PROVIDERS = ["ohmygpt", "mjproxy"]


def states(screen) -> dict[JobState, int]:
    runner = screen.queue.runner
    return runner.queue.counts(runner.namespace)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_eight_prompts_on_a_limit_of_three_flow_through_the_queue(
    provider, emulator, control, tmp_path, graphics
):
    frozen_jobs(control, job_seconds=6)
    key = fresh_key()
    launch = make_launch(tmp_path, emulator, provider, key=key, queue_limit=3)
    app = make_app(launch, graphics)
    notes = Recorder(app)
    before = submits(control)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await type_text(pilot, "a {red, blue, green, yellow, orange, purple, pink, white} fox")
        await pilot.press("ctrl+j")
        dialog = await screen_shown(pilot, ConfirmDialog, what="the confirmation")
        assert "Queue 8" in dialog.yes
        await pilot.press("y")
        await wait_for(pilot, lambda: states(screen)[JobState.SUBMITTED] + states(screen)[JobState.RUNNING] == 3)
        assert states(screen)[JobState.QUEUED] == 5
        assert submits(control) - before == 3  # the limit, never more
        assert screen.header.waiting == 5

        await pilot.press("f9")
        view = await screen_shown(pilot, QueueScreen, what="the queue view")
        assert "3 out of 3 at once, 5 queued" in str(view.query_one("#queue-title").render())
        # the first queued job (row 3) moves down one; the next is cancelled; then pause
        await pilot.press("down", "down", "down")
        first = view.current
        assert first is not None and first.state == JobState.QUEUED
        order = [j.id for j in view._jobs if j.state == JobState.QUEUED]
        await pilot.press("J")
        await wait_for(pilot, lambda: view.current is not None and view.current.id == first.id)
        assert [j.id for j in view._jobs].index(first.id) == 4
        await pilot.press("up")
        cancelled = view.current
        await pilot.press("x")
        await wait_for(pilot, lambda: runner_job(screen, cancelled.id).state == JobState.CANCELLED)
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.queue.runner.queue.paused(screen.queue.runner.namespace) is not None)

        control.post("/_emulator/clock", json={"advance": 10})  # the three finish
        await wait_for(pilot, lambda: states(screen)[JobState.DONE] == 3, timeout=15)
        assert submits(control) - before == 3  # paused: nothing new went
        await pilot.press("p")  # resumed: the next three go, in the new order
        await wait_for(pilot, lambda: states(screen)[JobState.SUBMITTED] + states(screen)[JobState.RUNNING] == 3)
        # the order as steered: the first moved below the second, the second cancelled
        order.insert(1, order.pop(0))
        order.remove(cancelled.id)
        out = [j.id for j in screen.queue.runner.queue.jobs(screen.queue.runner.namespace) if j.state.active]
        assert sorted(out) == sorted(order[:3])
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)

        await pilot.press("ctrl+q")  # jobs left: asked once
        question = await screen_shown(pilot, ConfirmDialog, what="the quit question")
        assert "1 queued, 3 out at the provider" in question.text
        await pilot.press("y")
    assert submits(control) - before == 6
    assert "Queued" in notes.titles()

    # the next start resumes: the last job goes once a slot is free, and all finish
    app = make_app(make_launch(tmp_path, emulator, provider, key=key, queue_limit=3), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await wait_for(pilot, lambda: "Queue resumed" in notes.titles())
        control.post("/_emulator/clock", json={"advance": 10})
        await wait_for(pilot, lambda: states(screen)[JobState.DONE] == 6, timeout=15)
        # a slot is free: the last job goes (then the clock moves it on)
        await wait_for(pilot, lambda: states(screen)[JobState.SUBMITTED] + states(screen)[JobState.RUNNING] == 1)
        assert states(screen)[JobState.QUEUED] == 0
        control.post("/_emulator/clock", json={"advance": 10})
        await wait_for(pilot, lambda: states(screen)[JobState.DONE] == 7, timeout=15)
        assert states(screen)[JobState.CANCELLED] == 1
        assert submits(control) - before == 7  # seven prompts, seven submits: none twice


def runner_job(screen, job_id):
    runner = screen.queue.runner
    return runner.queue.job(job_id)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_ctrl_g_queues_the_prompt_and_a_full_provider_queues_instead_of_refusing(
    provider, emulator, control, tmp_path, graphics
):
    frozen_jobs(control, job_seconds=6)
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key(), queue_limit=1), graphics)
    notes = Recorder(app)
    before = submits(control)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await type_text(pilot, "a queued owl")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: submits(control) - before == 1)
        await wait_for(pilot, lambda: screen.composer.text_area.text == "")
        await type_text(pilot, "a second owl")
        await pilot.press("ctrl+j")  # the provider is full (1 of 1): queued, not refused
        await wait_for(pilot, lambda: states(screen)[JobState.QUEUED] == 1)
        assert "Queued" in notes.titles()
        assert "Queue full" not in notes.titles("error")
        assert submits(control) - before == 1
        await wait_for(pilot, lambda: states(screen)[JobState.SUBMITTED] + states(screen)[JobState.RUNNING] == 1)
        control.post("/_emulator/clock", json={"advance": 10})
        await wait_for(pilot, lambda: submits(control) - before == 2, timeout=15)
        # answered (the task exists at the server) before its clock moves on
        await wait_for(pilot, lambda: states(screen)[JobState.QUEUED] == 0 and not states(screen)[JobState.SENDING])
        control.post("/_emulator/clock", json={"advance": 10})
        await wait_for(pilot, lambda: states(screen)[JobState.DONE] == 2, timeout=15)


async def test_a_prompt_file_from_the_palette_is_checked_shown_and_queued(emulator, control, tmp_path, graphics):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# two good, one bad\na red kite\na green kite --ar 99\na blue kite\n", encoding="utf-8")
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    before = submits(control)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        screen.queue.open_file()
        from mj_tui.ui.screens.ask import AskDialog

        await screen_shown(pilot, AskDialog, what="the file question")
        await type_text(pilot, str(prompts))
        await pilot.press("enter")
        confirm = await screen_shown(pilot, ConfirmDialog, what="what the file makes")
        assert "2 paid jobs, about 28,000 tok" in confirm.text
        assert "line 3:" in confirm.text and "--ar" in confirm.text
        await pilot.press("y")
        await wait_for(pilot, lambda: states(screen)[JobState.DONE] == 2, timeout=15)
        assert submits(control) - before == 2
        done = screen.queue.runner.queue.jobs(screen.queue.runner.namespace)
        assert sorted(j.line for j in done) == [2, 4]
