"""The kitty-graphics widget sends what the worker thread prepared, byte for byte what
textual-image would have encoded on the UI thread (against the pinned textual-image)."""

from __future__ import annotations

import base64
import io
import re
import sys

import pytest
from PIL import Image
from support.keys import fresh_key
from textual.drivers.headless_driver import HeadlessDriver
from textual_image._pixeldata import PixelData
from textual_image.renderable import tgp
from ui_helpers import grid_in_preview, make_app, make_launch, wait_for

from mj_tui.ui.graphics import Graphics
from mj_tui.ui.kitty_image import KittyImage, _PreparedRenderable, prepare


@pytest.fixture
def terminal(monkeypatch) -> io.StringIO:
    """Outside an app, textual-image (and the widget) write kitty sequences to sys.__stdout__."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "__stdout__", out)
    return out


def pictures(text: str) -> list[str]:
    """The base64 payload of every picture transmitted (chunks joined)."""
    done, chunks = [], []
    for control, data in re.findall(r"\x1b_G([^;\x1b]*);([^\x1b]*)\x1b\\", text):
        if "f=100" in control:
            chunks.append(data)
            if "m=0" in control:
                done.append("".join(chunks))
                chunks = []
    return done


def photo(size=(96, 80)) -> Image.Image:
    return Image.effect_noise(size, 40).convert("RGB")


def test_a_prepared_picture_is_sent_without_encoding_it_again(terminal, monkeypatch):
    image = photo()
    tgp.Image(image, 10, 4)._send_image_to_terminal(100, 80)  # the library's own way
    library = pictures(terminal.getvalue())
    assert len(library) == 1 and len(library[0]) > 4096  # several chunks

    terminal.seek(0)
    terminal.truncate()
    prepare(image, (100, 80))

    def no_encoding(self):
        raise AssertionError("encoded on the drawing path")

    monkeypatch.setattr(PixelData, "to_base64", no_encoding)
    _PreparedRenderable(image, 10, 4)._send_image_to_terminal(100, 80)
    assert pictures(terminal.getvalue()) == library


def test_with_a_writer_nothing_goes_behind_its_back(terminal):
    writes: list[str] = []
    renderable = _PreparedRenderable(photo(), 10, 4)
    renderable.write = writes.append
    renderable._send_image_to_terminal(100, 80)
    renderable._create_virtual_placement(10, 4)
    image_id = renderable.terminal_image_id
    renderable.cleanup()
    assert terminal.getvalue() == ""
    sent, placed, freed = writes  # the whole picture (many chunks) in one write
    assert len(pictures(sent)) == 1 and sent.count("\x1b_G") > 1 and f"i={image_id}," in sent
    assert placed == f"\x1b_Ga=p,i={image_id},c=10,r=4,U=1,q=2\x1b\\"
    assert freed == f"\x1b_Ga=d,I={image_id}\x1b\\" and renderable.terminal_image_id is None
    library = tgp.Image(photo(), 10, 4)  # spelled as the library spells them
    library.terminal_image_id = image_id
    library._create_virtual_placement(10, 4)
    library.cleanup()
    assert terminal.getvalue() == placed + freed


def test_another_size_than_prepared_falls_back_to_the_library(terminal):
    image = photo()
    prepare(image, (100, 80))
    _PreparedRenderable(image, 12, 5)._send_image_to_terminal(120, 100)
    sent = pictures(terminal.getvalue())
    terminal.seek(0)
    terminal.truncate()
    tgp.Image(photo_copy := image.copy(), 12, 5)._send_image_to_terminal(120, 100)
    assert photo_copy.size == (96, 80) and sent == pictures(terminal.getvalue())


async def test_the_preview_prepares_what_the_widget_then_sends(terminal, emulator, control, tmp_path, monkeypatch):
    # everything the app writes to the terminal, in order (the headless driver drops it)
    written: list[str] = []
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: written.append(data))
    graphics = Graphics("tgp", KittyImage, (10, 20))
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await grid_in_preview(pilot, app, "a fox")
        widget = screen.preview.image_widget
        size, payload = widget.image.info["mj_tui.kitty_png_base64"]
        await wait_for(pilot, lambda: any(payload in pictures(text) for text in written), what="the picture sent")
        assert size == (widget.styles.width.value * 10, widget.styles.height.value * 20)
        # the picture went through the app's writer (Textual's writer thread on a terminal), as one
        # write; a headless app writes no frames, so their order was checked on a real pty
        (picture,) = [text for text in written if payload in pictures(text)]
        assert pictures(picture) == [payload]
        assert terminal.getvalue() == ""  # nothing behind Textual's back on sys.__stdout__

        # drawn again (a restyle, a repaint of the pane): the picture is not sent again
        renders: list[object] = []
        render = KittyImage.render
        monkeypatch.setattr(KittyImage, "render", lambda self: renders.append(render(self)) or renders[-1])
        widget.refresh()
        await wait_for(pilot, lambda: renders, what="drawn again")
        for _ in range(3):
            await pilot.pause()
        assert len([text for text in written if payload in pictures(text)]) == 1
        assert all(r is renders[0] for r in renders) and renders[0].terminal_image_id


def test_a_preview_with_its_png_bytes_is_not_encoded_again(monkeypatch):
    from mj_tui.core.images import PNG_BYTES

    image = photo((100, 80))
    stand_in = io.BytesIO()
    Image.new("RGB", (100, 80), (128, 0, 128)).save(stand_in, format="PNG")
    image.info[PNG_BYTES] = stand_in.getvalue()  # as the image cache attaches the disk preview's bytes
    monkeypatch.setattr(Image.Image, "save", lambda *a, **k: (_ for _ in ()).throw(AssertionError("encoded")))
    done = prepare(image, (100, 80))
    ((size, payload),) = done.values()
    assert size == (100, 80) and base64.b64decode(payload) == stand_in.getvalue()
    monkeypatch.undo()
    ((size, payload),) = prepare(image, (120, 100)).values()  # another size: scaled and encoded
    assert size == (120, 100) and Image.open(io.BytesIO(base64.b64decode(payload))).size == (120, 100)
