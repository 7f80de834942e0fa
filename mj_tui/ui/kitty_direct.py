"""kitty graphics without unicode placeholders (kitty before 0.28, and terminals that speak
the protocol but not the placeholders): the picture is sent once, kept by the terminal
under its id, and placed at the widget's top-left corner.

A placement is a few dozen bytes: it is made again after any frame that wrote the
widget's cells (the widget may have moved), removed while something is drawn over the
picture (a toast, the palette, a dialog: kitty draws pictures above text, so they would
hide it), and made again when that goes. A focus change or a toast costs no picture bytes.
"""

from __future__ import annotations

import io
from base64 import b64encode
from itertools import count

from PIL import Image as PILImage
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from .sixel_image import SETTLE, frame_hits, overlays, watch_frames, watched

_PAYLOAD = "mj_tui.kitty_direct"  # key in the PIL image's .info: ((width, height), base64 PNG)
_CHUNK = 4096  # the protocol's limit per escape sequence
_IDS = count(0x3A0000)  # image ids: apart from textual-image's, which count from 1


def prepare(image: PILImage.Image, pixel_size: tuple[int, int], background=None, **_) -> dict:
    """The picture as base64 PNG, at its own size (call it off the UI thread)."""
    if image.info.get(_PAYLOAD, (None,))[0] != image.size:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=2)
        image.info[_PAYLOAD] = (image.size, b64encode(buffer.getvalue()).decode("ascii"))
    return {_PAYLOAD: image.info[_PAYLOAD]}


def _command(payload: str = "", **keys: object) -> str:
    control = ",".join(f"{k}={v}" for k, v in keys.items())
    return f"\x1b_G{control}{';' + payload if payload else ''}\x1b\\"


class KittyDirectImage(Widget):
    DEFAULT_CSS = "KittyDirectImage { width: auto; height: auto; }"
    prepare = staticmethod(prepare)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._image: PILImage.Image | None = None
        self._data: str | None = None
        self._image_id: int | None = None  # the terminal holds the picture under this id
        self._sent = False
        self._placed_at: tuple[int, int, int, int] | None = None
        self._settle: Timer | None = None
        self.sends = 0  # pictures sent
        self.placements = 0

    @property
    def image(self) -> PILImage.Image | None:
        return self._image

    @image.setter
    def image(self, image: PILImage.Image | None) -> None:
        self._forget()
        self._image = image
        if image is not None:
            prepared = image.info.get(_PAYLOAD)
            if not prepared or prepared[0] != image.size:
                prepared = prepare(image, image.size)[_PAYLOAD]
            self._data = prepared[1]
            self._image_id = next(_IDS)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width, self.rich_style)

    def on_mount(self) -> None:
        watch_frames(self.app)
        watched(self.app).add(self)

    def on_unmount(self) -> None:
        watched(self.app).discard(self)
        self._forget()

    def _write(self, text: str) -> None:
        driver = getattr(self.app, "_driver", None)
        if driver is not None:
            getattr(driver, "write_raw", driver.write)(text)

    def _forget(self) -> None:
        """Free the picture the terminal holds (its placements go with it)."""
        if self._image_id is not None and self._sent:
            self._write(_command(a="d", d="I", i=self._image_id, q=2))
        self._sent, self._placed_at, self._data = False, None, None

    def frame_written(self, update: object) -> None:
        if self._data is None:
            return
        if not self.display:  # hidden (another task, a text state): its placement goes
            self._unplace()
            return
        if frame_hits(update, self.content_region):
            self._damaged()

    def _damaged(self) -> None:
        if self._settle is None:
            self._settle = self.set_timer(SETTLE, self._place)
        else:
            self._settle.reset()

    def _unplace(self) -> None:
        if self._placed_at is not None and self._image_id is not None:
            self._write(_command(a="d", d="i", i=self._image_id, q=2))  # its placements; the data stays
            self._placed_at = None

    def _place(self) -> None:
        self._settle = None
        if self._data is None or self._image_id is None or not self.display or not self.is_mounted:
            return
        region = self.content_region
        over = overlays(self, region) if region.area else None
        if over is None or over:
            self._unplace()
            return
        parts = []
        if not self._sent:
            data = self._data
            rest = range(_CHUNK, len(data), _CHUNK)
            parts.append(
                _command(data[:_CHUNK], a="t", f=100, i=self._image_id, q=2, m=1 if rest else 0)
                + "".join(
                    _command(data[start : start + _CHUNK], m=1 if start + _CHUNK < len(data) else 0) for start in rest
                )
            )
            self._sent = True
            self.sends += 1
        where = (region.x, region.y, region.width, region.height)
        # the same placement id: kitty moves the one placement rather than adding another
        parts.append(
            f"\x1b7\x1b[{region.y + 1};{region.x + 1}H"
            + _command(a="p", i=self._image_id, p=1, c=region.width, r=region.height, C=1, q=2)
            + "\x1b8"
        )
        self._placed_at = where
        self.placements += 1
        self._write("".join(parts))
