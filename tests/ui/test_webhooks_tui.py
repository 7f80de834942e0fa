"""The TUI takes the provider's callbacks when asked ([webhooks] listen): a job's progress
arrives by callback, and polling goes on at a slower pace as the fallback."""

from __future__ import annotations

import pytest
from support.keys import fresh_key
from ui_helpers import Recorder, main_screen, make_app, make_launch, type_text, wait_for

from mj_tui.core.models import Status


@pytest.mark.parametrize("provider", ["ohmygpt", "mjproxy"])
async def test_a_job_is_followed_by_callbacks(provider, emulator, control, tmp_path, graphics):
    control.post("/_emulator/config", json={"job_seconds": 1.0})
    launch = make_launch(tmp_path, emulator, provider, key=fresh_key())
    launch.config.webhook_listen = "127.0.0.1:0"  # any free port on loopback
    app = make_app(launch, graphics)
    notes = Recorder(app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await wait_for(pilot, lambda: "Webhooks" in notes.titles(), what="the listener")
        service = screen.service
        assert service.webhooks is not None and "127.0.0.1" in service.webhooks.base_url
        await type_text(pilot, "a fox told by callback")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: service.callbacks > 0, what="a callback", timeout=15)
        await wait_for(pilot, lambda: (t := screen.tasks.current) and t.status == Status.SUCCESS, timeout=15)
        assert service.poll_every == service.profile.poll_interval * 4
