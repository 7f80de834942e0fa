"""Imagine -> progress -> done -> U2, against the emulator over a real socket."""

from __future__ import annotations

import pytest
from PIL import ImageChops, ImageStat
from support.keys import fresh_key
from ui_helpers import Recorder, make_app, make_launch, wait_for

from mj_tui.core.models import Status
from mj_tui.ui.screens.main import MainScreen

PROVIDERS = ["ohmygpt", "mjproxy"]


def diff(a, b) -> float:
    b = b.resize(a.size)
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_imagine_progress_then_upscale_shows_top_right_quadrant(provider, emulator, control, tmp_path, graphics):
    control.post("/_emulator/config", json={"job_seconds": 6})
    control.post("/_emulator/clock", json={"freeze": True})
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.started and app.screen, what="main"
        )
        await type_text(pilot, "a red fox")
        await pilot.press("ctrl+j")
        grid = await wait_for(
            pilot,
            lambda: screen.tasks.current and screen.tasks.current.prompt == "a red fox" and screen.tasks.current,
            what="new task selected",
        )
        assert screen.tasks.tasks[0].id == grid.id  # at the top
        assert screen.composer.text_area.text == ""  # sent, box cleared

        control.post("/_emulator/clock", json={"advance": 3})
        running = await wait_for(
            pilot, lambda: (t := screen.tasks.find(grid.id)) and t.progress > 0 and t, what="progress"
        )
        assert running.status == Status.IN_PROGRESS
        row = screen.tasks.render_line(0).text
        assert "%" in row and "a red fox" in row
        assert "Rendering" in str(screen.preview.query_one("#preview-state").render())

        control.post("/_emulator/clock", json={"advance": 10})
        await wait_for(
            pilot, lambda: screen.preview.shown and screen.preview.shown.key.endswith(grid.id), what="grid image"
        )
        assert "Done" in notes.titles()
        assert screen.preview.query_one("#quad-top").display  # quadrant numbers around a grid

        screen.set_focus(screen.tasks)
        await pilot.press("u", "2")
        upscale = await wait_for(pilot, lambda: (t := screen.tasks.current) and t.id != grid.id and t, what="U2 task")
        assert upscale.parent_id == grid.id and screen.tasks.tasks[0].id == upscale.id
        control.post("/_emulator/clock", json={"advance": 10})
        await wait_for(
            pilot, lambda: screen.preview.shown and screen.preview.shown.key.endswith(upscale.id), what="upscale image"
        )

        shown = screen.preview.image_widget.image
        service = app.service
        grid_key = service.image_key(screen.tasks.find(grid.id))
        quarters = {q: service.images.preview(grid_key, shown.width, shown.height, quadrant=q) for q in (1, 2, 3, 4)}
        scores = {q: diff(shown, img) for q, img in quarters.items()}
        assert scores[2] == min(scores.values()) and scores[2] < 8, scores
        assert not notes.titles("error"), notes.text()
