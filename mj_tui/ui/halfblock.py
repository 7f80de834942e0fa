"""Pictures as half-blocks (▀): each cell shows two pixels, its upper one as the text colour
and its lower one as the background. Works everywhere, tmux and SSH included.

The picture arrives fitted to its box in real pixels (the cell's true shape, e.g. 8x19 in
kitty, not an assumed 1:2), and is resampled here to one pixel per column and two per row,
so a square grid stays square. The lines are built in the preview's worker thread
(`prepare`); drawing copies them.
"""

from __future__ import annotations

from PIL import Image as PILImage
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

_PAYLOAD = "mj_tui.halfblock"  # key in the PIL image's .info: ((cols, rows), [Strip, ...])


def lines_for(image: PILImage.Image, cells: tuple[int, int]) -> list[Strip]:
    cols, rows = cells
    rgb = image.convert("RGB")
    if rgb.size != (cols, rows * 2):
        rgb = rgb.resize((cols, rows * 2), PILImage.Resampling.BICUBIC)
    data = rgb.tobytes()
    styles: dict[bytes, Style] = {}
    lines = []
    stride = cols * 3
    for row in range(rows):
        top = data[2 * row * stride : (2 * row + 1) * stride]
        bottom = data[(2 * row + 1) * stride : (2 * row + 2) * stride]
        segments = []
        for x in range(0, stride, 3):
            key = top[x : x + 3] + bottom[x : x + 3]
            style = styles.get(key)
            if style is None:
                style = styles[key] = Style(color=Color.from_rgb(*key[:3]), bgcolor=Color.from_rgb(*key[3:]))
            segments.append(Segment("▀", style))
        lines.append(Strip(segments, cols))
    return lines


def prepare(image: PILImage.Image, pixel_size: tuple[int, int], background=None, *, cells=None, **_) -> dict:
    """Build the lines for `cells` (columns, rows) off the UI thread."""
    if cells is None:
        return {}
    image.info[_PAYLOAD] = (tuple(cells), lines_for(image, cells))
    return {_PAYLOAD: image.info[_PAYLOAD]}


class HalfBlockImage(Widget):
    """`image` is set fitted to its box; the widget's width and height are its cells."""

    DEFAULT_CSS = "HalfBlockImage { width: auto; height: auto; }"
    prepare = staticmethod(prepare)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._image: PILImage.Image | None = None
        self._lines: list[Strip] = []
        self._for: tuple[int, int] | None = None

    @property
    def image(self) -> PILImage.Image | None:
        return self._image

    @image.setter
    def image(self, image: PILImage.Image | None) -> None:
        self._image = image
        self._lines, self._for = [], None
        if image is not None and (prepared := image.info.get(_PAYLOAD)) is not None:
            self._for, self._lines = prepared
        self.refresh()

    def _cells(self) -> tuple[int, int]:
        width, height = self.styles.width, self.styles.height
        if width is not None and height is not None and width.is_cells and height.is_cells:
            return int(width.value), int(height.value)
        return self.size.width, self.size.height

    def render_line(self, y: int) -> Strip:
        if self._image is None:
            return Strip.blank(self.size.width, self.rich_style)
        cells = self._cells()
        if self._for != cells and min(cells) > 0:  # not prepared for this size: built here
            self._lines, self._for = lines_for(self._image, cells), cells
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width, self.rich_style)
