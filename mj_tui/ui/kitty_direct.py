"""kitty graphics without unicode placeholders (kitty before 0.28, and terminals that speak
the protocol but not the placeholders): the picture is sent once, kept by the terminal
under its id, and placed at the widget's top-left corner.

A placement is a few dozen bytes: it is made again after any frame that wrote the
widget's cells (the widget may have moved). kitty draws pictures above text, so where
something of the same screen is drawn over the picture (a toast, a tooltip) the picture
is placed in pieces around it (each a placement of a part of the picture: see
`uncovered`), and whole again when it goes; under another screen (the palette, a
dialog) it is removed, and placed again when that closes. A focus change or a toast
costs no picture bytes.
"""

from __future__ import annotations

import io
from base64 import b64encode
from itertools import count, pairwise

from PIL import Image as PILImage
from textual.geometry import Region

from .sixel_image import TerminalPicture, frame_hits, overlays

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


def uncovered(region: Region, covers: list[Region]) -> list[Region]:
    """`region` less `covers`, as few rectangles as a sweep gives: bands between the
    covers' top and bottom edges, each cut where covers are, then bands of the same columns
    joined top to bottom."""
    covers = [c.intersection(region) for c in covers]
    covers = [c for c in covers if c.area]
    if not covers:
        return [region] if region.area else []
    edges = sorted({region.y, region.bottom, *(c.y for c in covers), *(c.bottom for c in covers)})
    pieces: list[Region] = []
    open_: dict[tuple[int, int], Region] = {}  # (x, width) -> the piece growing downwards
    for top, bottom in pairwise(edges):
        spans = sorted((c.x, c.right) for c in covers if c.y < bottom and c.bottom > top)
        free, x = [], region.x
        for start, end in spans:
            if start > x:
                free.append((x, start))
            x = max(x, end)
        if x < region.right:
            free.append((x, region.right))
        grown: dict[tuple[int, int], Region] = {}
        for start, end in free:
            key = (start, end - start)
            above = open_.pop(key, None)
            if above is not None and above.bottom == top:
                grown[key] = Region(above.x, above.y, above.width, above.height + bottom - top)
            else:
                grown[key] = Region(start, top, end - start, bottom - top)
        pieces.extend(open_.values())
        open_ = grown
    pieces.extend(open_.values())
    return sorted(pieces, key=lambda r: (r.y, r.x))


class KittyDirectImage(TerminalPicture):
    DEFAULT_CSS = "KittyDirectImage { width: auto; height: auto; }"
    prepare = staticmethod(prepare)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._image: PILImage.Image | None = None
        self._data: str | None = None
        self._image_id: int | None = None  # the terminal holds the picture under this id
        self._sent = False
        self._placed_at: tuple[int, ...] | None = None  # the region, and what was cut out of it
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

    def on_unmount(self) -> None:  # (TerminalPicture's stops telling it of frames)
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

    def _draw(self) -> None:
        self._place()

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
        if over is None:  # another screen is up, or the picture is cut by a scroll
            self._unplace()
            return
        covers = [widget.region for widget in over]
        pieces = uncovered(region, covers)
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
        where = (region.x, region.y, region.width, region.height, *(v for c in covers for v in c))
        if pieces == [region]:
            # the same placement id: kitty moves the one placement rather than adding another
            if self._placed_at is not None and len(self._placed_at) > 4:
                parts.append(_command(a="d", d="i", i=self._image_id, q=2))  # the pieces go
            parts.append(
                f"\x1b7\x1b[{region.y + 1};{region.x + 1}H"
                + _command(a="p", i=self._image_id, p=1, c=region.width, r=region.height, C=1, q=2)
                + "\x1b8"
            )
        else:
            parts.append(_command(a="d", d="i", i=self._image_id, q=2))  # what was placed before
            parts.extend(self._piece(region, piece, number) for number, piece in enumerate(pieces, 1))
        self._placed_at = where
        self.placements += 1
        self._write("".join(parts))

    def _piece(self, region: Region, piece: Region, number: int) -> str:
        """A placement of the part of the picture under `piece` (cells of the screen)."""
        assert self._image is not None
        width, height = self._image.size
        left = round((piece.x - region.x) * width / region.width)
        top = round((piece.y - region.y) * height / region.height)
        right = round((piece.right - region.x) * width / region.width)
        bottom = round((piece.bottom - region.y) * height / region.height)
        place = _command(
            a="p", i=self._image_id, p=number, x=left, y=top, w=right - left, h=bottom - top,
            c=piece.width, r=piece.height, C=1, q=2,
        )  # fmt: skip
        return f"\x1b7\x1b[{piece.y + 1};{piece.x + 1}H{place}\x1b8"
