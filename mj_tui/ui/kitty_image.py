"""The kitty-graphics image widget, with the picture encoded before it is drawn.

textual-image's TGP renderable scales the picture and encodes it as PNG while the
frame is drawn, on the UI thread: ~55 ms for a 580x580 preview (benchmarks/preview.py),
three frames in which no key is handled.  The preview's worker thread already holds
the picture, so it does that work there (`prepare`); the renderable below sends the
ready payload and only falls back to the library's own path when the drawn size
differs from the prepared one.  Its escape sequences go through Textual's writer
thread (see _PreparedRenderable).  Built on textual-image 0.12 internals (pinned in
pyproject.toml); tests/ui/test_kitty_image.py checks both paths.
"""

from __future__ import annotations

import io
import sys
from base64 import b64encode
from collections.abc import Callable

from PIL import Image as PILImage
from textual_image._terminal import TerminalError
from textual_image.renderable import tgp
from textual_image.widget._base import Image as BaseImage

_PAYLOAD = "mj_tui.kitty_png_base64"  # key in the PIL image's .info: ((width, height), base64 PNG)
_CHUNK = 4096  # the protocol's limit per escape sequence


def prepare(image: PILImage.Image, pixel_size: tuple[int, int], background: tuple | None = None, **_) -> dict:
    """Scale and encode `image` as the renderable would for `pixel_size` (call it off the UI thread).
    kitty draws on whatever is behind it, so `background` does not matter here.

    A preview that came with its PNG bytes (the disk preview, see core.images) at
    exactly that size is not encoded again.
    """
    # not at import: the image cache (its modules, Pillow plugins) is not needed for the first frame
    from ..core.images import PNG_BYTES

    png = image.info.get(PNG_BYTES) if image.size == pixel_size else None
    if not isinstance(png, bytes):
        scaled = image if image.size == pixel_size else image.resize(pixel_size)
        buffer = io.BytesIO()
        scaled.save(buffer, format="png", compress_level=2)  # as textual-image encodes it
        png = buffer.getvalue()
    image.info[_PAYLOAD] = (pixel_size, b64encode(png).decode("ascii"))
    return {_PAYLOAD: image.info[_PAYLOAD]}  # what to put back in .info to skip all this next time


class _PreparedRenderable(tgp.Image):
    """tgp.Image that sends a prepared payload, and writes through `write` when given.

    The library writes each escape sequence to sys.__stdout__ and flushes, from the UI
    thread, while Textual's writer thread writes frames to the same stream: ~0.8 MB per
    picture that could block the UI on a slow SSH link, and two threads writing one
    stream at once.  KittyImage hands in the app driver's `write` (Textual's writer
    thread), so a picture goes out as one write, in order with the frames around it.
    """

    write: Callable[[str], None] | None = None
    drawn_for: tuple | None = None  # (image, styled size, widget size) it was made for
    #: inside tmux with allow-passthrough: each sequence goes out wrapped for the outer
    #: terminal (the placeholders themselves are text, which tmux draws as any other)
    wrap: Callable[[str], str] | None = None

    def __init__(self, image, width=None, height=None) -> None:
        self._prepared = image.info.get(_PAYLOAD) if isinstance(image, PILImage.Image) else None
        super().__init__(image, width, height)

    def _emit(self, messages: list[str]) -> None:
        if self.wrap is not None:
            messages = [self.wrap(message) for message in messages]
        text = "".join(messages)
        if self.write is not None:
            self.write(text)
            return
        out = sys.__stdout__
        if out is None:
            raise TerminalError("sys.__stdout__ is None")  # what the library raises
        out.write(text)
        out.flush()

    def _send_image_to_terminal(self, width: int, height: int) -> None:
        if self._prepared is not None and self._prepared[0] == (width, height):
            data = self._prepared[1]
        else:  # another size than prepared: the library's own scaling and encoding
            data = self._image_data.scaled(width, height).to_base64()
        self.terminal_image_id = next(tgp.Image._image_id_counter)
        self._emit(
            [
                _message(
                    i=self.terminal_image_id,
                    m=1 if start + _CHUNK < len(data) else 0,
                    f=100,
                    payload=data[start : start + _CHUNK],
                    q=2,
                )
                for start in range(0, len(data), _CHUNK)
            ]
        )

    def _create_virtual_placement(self, width: int, height: int) -> None:
        self._emit([_message(a="p", i=self.terminal_image_id, c=width, r=height, U=1, q=2)])

    def cleanup(self) -> None:
        if self.terminal_image_id:
            self._emit([_message(a="d", I=self.terminal_image_id)])
            self.terminal_image_id = None


def _message(*, payload: str | None = None, **keys: int | str | None) -> str:
    """One graphics-protocol escape sequence, spelled as textual-image spells it."""
    control = ",".join(f"{k}={v}" for k, v in keys.items() if v is not None)
    return f"{tgp._TGP_MESSAGE_START}{control}{';' + payload if payload else ''}{tgp._TGP_MESSAGE_END}"


class KittyImage(BaseImage, Renderable=_PreparedRenderable):
    """TGPImage whose pictures can be prepared in a worker thread (see `prepare`), and
    whose escape sequences go out through Textual's writer thread."""

    prepare = staticmethod(prepare)
    wrap: Callable[[str], str] | None = None  # set on a subclass for tmux (see graphics.py)

    def render(self):
        # the library makes a new renderable on every render, and a new renderable sends the
        # picture again (~100 kB) under a new id: a restyle of the pane would cost a picture.
        # The same picture at the same size keeps the renderable, and the picture it sent.
        key = (id(self.image), self._get_styled_size(), self.size)
        kept = self._renderable
        if isinstance(kept, _PreparedRenderable) and kept.terminal_image_id and kept.drawn_for == key:
            return kept
        renderable = super().render()
        if isinstance(renderable, _PreparedRenderable):
            renderable.drawn_for = key
            renderable.wrap = self.wrap
            driver = getattr(self.app, "_driver", None)  # textual is pinned (pyproject.toml)
            renderable.write = driver.write if driver is not None else None
        return renderable
