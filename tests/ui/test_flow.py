"""Imagine -> progress -> done -> U2, against the emulator over a real socket."""

from __future__ import annotations

import pytest
from PIL import ImageChops, ImageStat
from support.keys import fresh_key
from ui_helpers import Recorder, frozen_jobs, main_screen, make_app, make_launch, type_text, wait_for

from mj_tui.core.models import Status

PROVIDERS = ["ohmygpt", "mjproxy"]


def diff(a, b) -> float:
    b = b.resize(a.size)
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_imagine_progress_then_upscale_shows_top_right_quadrant(provider, emulator, control, tmp_path, graphics):
    frozen_jobs(control, job_seconds=6)  # the test moves the clock on
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
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
