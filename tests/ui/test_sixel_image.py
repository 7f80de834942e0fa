"""The Sixel widget draws what the preview's worker thread encoded, the very text
textual-image would have encoded on the UI thread (against the pinned textual-image)."""

from __future__ import annotations

import threading

import textual_image.widget.sixel as library
from support.keys import fresh_key
from textual_image._pixeldata import PixelData
from textual_image._sixel import image_to_sixels
from ui_helpers import grid_in_preview, make_app, make_launch, wait_for

from mj_tui.ui.graphics import Graphics
from mj_tui.ui.sixel_image import SixelImage, _PreparedSixels


def library_sixels(image, size, background) -> str:
    width, height = size
    return image_to_sixels(
        PixelData(image).scaled(width, height).cropped(0, 0, width, height).pil_image, None, background
    )


async def test_the_preview_encodes_sixels_off_the_ui_thread(emulator, control, tmp_path, monkeypatch):
    encoded_on: list[str] = []  # threads the library's own encoder ran on

    def watched(image, options=None, background=None):
        encoded_on.append(threading.current_thread().name)
        return image_to_sixels(image, options, background)

    monkeypatch.setattr(library, "image_to_sixels", watched)
    graphics = Graphics("sixel", SixelImage, (10, 20))
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await grid_in_preview(pilot, app, "a fox")
        widget = screen.preview.image_widget
        drawn = await wait_for(
            pilot,
            lambda: (
                (impl := widget.query(_PreparedSixels).first(None)) is not None
                and impl._cached_sixels is not None
                and impl
            ),
            what="the sixels drawn",
        )
        size, background, text = widget.image.info["mj_tui.sixel"]
        assert size == (widget.styles.width.value * 10, widget.styles.height.value * 20)
        assert drawn._cached_sixels.sixel_data == text == library_sixels(widget.image, size, background)
        assert background == drawn._get_background_rgba()
        assert encoded_on == []  # drawn from what the worker prepared

        # another theme: another background than prepared for, so the library encodes it
        # itself (right, if slow); the next picture is prepared for the new one
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await wait_for(pilot, lambda: encoded_on, what="the library's own encoding")
        impl = widget.query_one(_PreparedSixels)
        await wait_for(
            pilot,
            lambda: impl._cached_sixels.background == impl._get_background_rgba(),
            what="redrawn on the new background",
        )
        assert impl._cached_sixels.sixel_data == library_sixels(widget.image, size, impl._get_background_rgba())
        encoded_on.clear()
        first = screen.preview.shown
        screen.set_focus(screen.tasks)
        await pilot.press("1")  # the top-left quadrant: a new picture
        await wait_for(pilot, lambda: screen.preview.shown not in (None, first), what="the quadrant")
        await wait_for(
            pilot,
            lambda: (
                (impl := widget.query(_PreparedSixels).first(None)) is not None
                and impl._cached_sixels is not None
                and impl._cached_sixels.image is widget.image
            ),
            what="the quadrant drawn",
        )
        assert encoded_on == []
        assert widget.image.info["mj_tui.sixel"][1] == widget.query_one(_PreparedSixels)._get_background_rgba()
