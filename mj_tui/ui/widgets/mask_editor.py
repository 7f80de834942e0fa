"""Rectangles over a picture: the Vary (Region) selection, by keys or by mouse.

The picture is drawn with half-block cells (two pixels per cell, any terminal),
so the selections can be tinted over it exactly; they live in cell units of the
drawn picture and come out as fractions of the image (see :meth:`boxes`), which
the caller turns into a mask at the image's own resolution.

Keys: arrows move the active selection, shift+arrows resize it (+/- grow or
shrink it on every side, for terminals where shift+arrows do not arrive), a adds
one, tab-less cycling with space, delete removes it, c clears all, 1-9 place it
on a preset area.  Mouse: drag to draw a new one, drag inside one to move it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image
from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.color import Color
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

# key -> (label, box as fractions of the image: left, top, right, bottom)
PRESETS: dict[str, tuple[str, tuple[float, float, float, float]]] = {
    "1": ("top-left quarter", (0, 0, 0.5, 0.5)),
    "2": ("top-right quarter", (0.5, 0, 1, 0.5)),
    "3": ("bottom-left quarter", (0, 0.5, 0.5, 1)),
    "4": ("bottom-right quarter", (0.5, 0.5, 1, 1)),
    "5": ("centre", (0.25, 0.25, 0.75, 0.75)),
    "6": ("top half", (0, 0, 1, 0.5)),
    "7": ("bottom half", (0, 0.5, 1, 1)),
    "8": ("left half", (0, 0, 0.5, 1)),
    "9": ("right half", (0.5, 0, 1, 1)),
}
MAX_SELECTIONS = 9


@dataclass
class Rect:
    """A selection in cells of the drawn picture: [x0, x1) × [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    def contains(self, x: int, y: int) -> bool:
        return self.x0 <= x < self.x1 and self.y0 <= y < self.y1

    def on_edge(self, x: int, y: int) -> bool:
        return self.contains(x, y) and (x in (self.x0, self.x1 - 1) or y in (self.y0, self.y1 - 1))


def fit(size: tuple[int, int], cols: int, rows: int) -> tuple[int, int]:
    """Pixels (width, height) of an image fitted into cols × rows half-block cells."""
    width, height = size
    if width <= 0 or height <= 0 or cols <= 0 or rows <= 0:
        return 0, 0
    scale = min(cols / width, rows * 2 / height)
    return max(1, min(cols, round(width * scale))), max(1, min(rows * 2, round(height * scale)))


def _rgb(pixel: object) -> tuple[int, int, int]:
    """A pixel of the editor's RGB picture as its three channels."""
    assert isinstance(pixel, tuple) and len(pixel) >= 3
    return pixel[0], pixel[1], pixel[2]


def _blend(rgb: tuple[int, int, int], tint: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(round(a + (b - a) * amount) for a, b in zip(rgb, tint, strict=True))  # type: ignore[return-value]


class MaskEditor(Widget, can_focus=True):
    BINDINGS = [
        Binding("up", "move(0, -1)", "Move", show=False, id="mask-up", tooltip="Move the selection up"),
        Binding("down", "move(0, 1)", "Move", show=False, id="mask-down", tooltip="Move the selection down"),
        Binding("left", "move(-1, 0)", "Move", show=False, id="mask-left", tooltip="Move the selection left"),
        Binding("right", "move(1, 0)", "Move", show=False, id="mask-right", tooltip="Move the selection right"),
        Binding(
            "shift+up", "resize(0, -1)", "Size", show=False, id="mask-shorter", tooltip="Make the selection shorter"
        ),
        Binding(
            "shift+down", "resize(0, 1)", "Size", show=False, id="mask-taller", tooltip="Make the selection taller"
        ),
        Binding(
            "shift+left", "resize(-1, 0)", "Size", show=False, id="mask-narrower", tooltip="Make the selection narrower"
        ),
        Binding("shift+right", "resize(1, 0)", "Size", show=False, id="mask-wider", tooltip="Make the selection wider"),
        Binding(
            "plus,equals_sign",
            "grow(1)",
            "Grow",
            show=False,
            id="mask-grow",
            tooltip="Grow the selection on every side",
        ),
        Binding(
            "minus", "grow(-1)", "Shrink", show=False, id="mask-shrink", tooltip="Shrink the selection on every side"
        ),
        Binding("a,insert", "add", "Add", id="mask-add", tooltip="Add another selection"),
        Binding("space,n", "cycle", "Next", id="mask-next", tooltip="Make the next selection the active one"),
        Binding("delete,backspace,x", "delete", "Delete", id="mask-delete", tooltip="Delete the active selection"),
        Binding("c", "clear", "Clear", id="mask-clear", tooltip="Delete every selection"),
    ]

    DEFAULT_CSS = """
    MaskEditor {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    """

    class Changed(Message):
        """The selections changed (the dialog shows their count and area)."""

        def __init__(self, editor: MaskEditor) -> None:
            super().__init__()
            self.editor = editor

        @property
        def control(self) -> MaskEditor:
            return self.editor

    def __init__(self, image: Image.Image, **kwargs) -> None:
        super().__init__(**kwargs)
        self.image = image.convert("RGB")
        self.selections: list[Rect] = []
        self.active: int | None = None
        self._grid: tuple[int, int] = (0, 0)  # (cols, rows) of the drawn picture
        self._pending: list[tuple[float, float, float, float]] = []  # boxes placed before the first layout
        self._pixels: Image.Image | None = None
        self._drag: tuple[str, int, int, Rect] | None = None  # (mode, x, y, rect at start)
        self._strips: dict[int, Strip] = {}

    # -- geometry ---------------------------------------------------------------------
    @property
    def grid(self) -> tuple[int, int]:
        return self._grid

    def _offset_x(self) -> int:
        return max(0, (self.content_size.width - self._grid[0]) // 2)

    def on_resize(self) -> None:
        cols, rows = self.content_size
        width, height = fit(self.image.size, cols, rows)
        grid = (width, (height + 1) // 2)
        if grid == self._grid and self._pixels is not None:
            return
        boxes = self.boxes() if self._grid[0] else []
        self._grid = grid
        self._pixels = self.image.resize((width, height), Image.Resampling.BILINEAR) if width else None
        self.selections = [self._rect_of(box) for box in boxes]
        for box in self._pending:
            self._place(box)
        self._pending = []
        self._changed(quiet=True)

    def _rect_of(self, box: tuple[float, float, float, float]) -> Rect:
        cols, rows = self._grid
        left, top, right, bottom = box
        x0, y0 = round(left * cols), round(top * rows)
        x1, y1 = max(x0 + 1, round(right * cols)), max(y0 + 1, round(bottom * rows))
        return Rect(min(x0, cols - 1), min(y0, rows - 1), min(x1, cols), min(y1, rows))

    def boxes(self) -> list[tuple[float, float, float, float]]:
        """Selections as fractions of the image (left, top, right, bottom)."""
        cols, rows = self._grid
        if not cols or not rows:
            return list(self._pending)
        return [(r.x0 / cols, r.y0 / rows, r.x1 / cols, r.y1 / rows) for r in self.selections]

    def covered(self) -> float:
        """The share of the picture that will be repainted (0..1)."""
        cols, rows = self._grid
        if not cols or not rows:
            return 0.0
        cells = {(x, y) for r in self.selections for x in range(r.x0, r.x1) for y in range(r.y0, r.y1)}
        return len(cells) / (cols * rows)

    # -- changing ---------------------------------------------------------------------
    def _place(self, box: tuple[float, float, float, float], *, new: bool = False) -> None:
        if not self._grid[0]:
            self._pending.append(box)
            return
        rect = self._rect_of(box)
        if self.active is None or new:
            if len(self.selections) >= MAX_SELECTIONS:
                self.app.bell()
                return
            self.selections.append(rect)
            self.active = len(self.selections) - 1
        else:
            self.selections[self.active] = rect
        self._changed()

    def preset(self, key: str) -> None:
        """Put the active selection (or a new one) on a preset area (1-9)."""
        self._place(PRESETS[key][1])

    def add(self, box: tuple[float, float, float, float] = PRESETS["5"][1]) -> None:
        self._place(box, new=True)

    def _changed(self, *, quiet: bool = False) -> None:
        if self.active is not None and not 0 <= self.active < len(self.selections):
            self.active = len(self.selections) - 1 if self.selections else None
        self._strips.clear()
        self.refresh()
        if not quiet or self.selections:
            self.post_message(self.Changed(self))

    def _clamp(self, rect: Rect) -> Rect:
        cols, rows = self._grid
        width = max(1, min(rect.x1 - rect.x0, cols))
        height = max(1, min(rect.y1 - rect.y0, rows))
        x0 = max(0, min(rect.x0, cols - width))
        y0 = max(0, min(rect.y0, rows - height))
        return Rect(x0, y0, x0 + width, y0 + height)

    def action_move(self, dx: int, dy: int) -> None:
        if self.active is None:
            self.app.bell()
            return
        r = self.selections[self.active]
        self.selections[self.active] = self._clamp(Rect(r.x0 + dx, r.y0 + dy, r.x1 + dx, r.y1 + dy))
        self._changed()

    def action_resize(self, dx: int, dy: int) -> None:
        if self.active is None:
            self.app.bell()
            return
        cols, rows = self._grid
        r = self.selections[self.active]
        x1 = max(r.x0 + 1, min(cols, r.x1 + dx))
        y1 = max(r.y0 + 1, min(rows, r.y1 + dy))
        self.selections[self.active] = Rect(r.x0, r.y0, x1, y1)
        self._changed()

    def action_grow(self, step: int) -> None:
        if self.active is None:
            self.app.bell()
            return
        cols, rows = self._grid
        r = self.selections[self.active]
        x0, y0, x1, y1 = r.x0 - step, r.y0 - step, r.x1 + step, r.y1 + step
        if x1 - x0 < 1 or y1 - y0 < 1:
            self.app.bell()
            return
        self.selections[self.active] = Rect(max(0, x0), max(0, y0), min(cols, x1), min(rows, y1))
        self._changed()

    def action_add(self) -> None:
        self.add()

    def action_cycle(self) -> None:
        if not self.selections:
            self.app.bell()
            return
        self.active = 0 if self.active is None else (self.active + 1) % len(self.selections)
        self._changed()

    def action_delete(self) -> None:
        if self.active is None:
            self.app.bell()
            return
        del self.selections[self.active]
        self.active = min(self.active, len(self.selections) - 1) if self.selections else None
        self._changed()

    def action_clear(self) -> None:
        self.selections.clear()
        self.active = None
        self._changed()

    # -- mouse ------------------------------------------------------------------------
    def _cell(self, event: events.MouseEvent) -> tuple[int, int]:
        offset = event.get_content_offset_capture(self)
        return offset.x - self._offset_x(), offset.y

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if not self._grid[0]:
            return
        x, y = self._cell(event)
        cols, rows = self._grid
        if not (0 <= x < cols and 0 <= y < rows):
            return
        self.focus()
        hit = next((i for i in reversed(range(len(self.selections))) if self.selections[i].contains(x, y)), None)
        if hit is not None:
            self.active = hit
            self._drag = ("move", x, y, Rect(**vars(self.selections[hit])))
        else:
            if len(self.selections) >= MAX_SELECTIONS:
                self.app.bell()
                return
            self.selections.append(Rect(x, y, x + 1, y + 1))
            self.active = len(self.selections) - 1
            self._drag = ("draw", x, y, Rect(x, y, x + 1, y + 1))
        self.capture_mouse()
        self._changed()
        event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag is None or self.active is None:
            return
        mode, sx, sy, start = self._drag
        cols, rows = self._grid
        x, y = self._cell(event)
        x, y = max(0, min(cols - 1, x)), max(0, min(rows - 1, y))
        if mode == "draw":
            rect = Rect(min(sx, x), min(sy, y), max(sx, x) + 1, max(sy, y) + 1)
        else:
            dx, dy = x - sx, y - sy
            rect = self._clamp(Rect(start.x0 + dx, start.y0 + dy, start.x1 + dx, start.y1 + dy))
        if rect != self.selections[self.active]:
            self.selections[self.active] = rect
            self._changed()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag is not None:
            self.on_mouse_move(event)  # type: ignore[arg-type]
            self._drag = None
            self.release_mouse()

    # -- drawing ----------------------------------------------------------------------
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    def _tint(self) -> tuple[int, int, int]:
        try:
            color = Color.parse(self.app.theme_variables.get("accent", "#ffa62b"))
        except Exception:
            color = Color(255, 166, 43)
        return color.r, color.g, color.b

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is not None:
            return strip
        width = self.content_size.width
        cols, rows = self._grid
        pixels = self._pixels
        if pixels is None or y >= rows:
            strip = Strip.blank(width)
        else:
            tint = self._tint()
            active = self.selections[self.active] if self.active is not None else None
            left = self._offset_x()
            segments = [Segment(" " * left)] if left else []
            load = pixels.load()
            assert load is not None  # an RGB image in memory always has pixel access
            height = pixels.height
            for x in range(cols):
                top = _rgb(load[x, 2 * y])
                bottom = _rgb(load[x, 2 * y + 1]) if 2 * y + 1 < height else None
                amount = 0.0
                if active is not None and active.on_edge(x, y):
                    amount = 0.75
                elif any(r.contains(x, y) for r in self.selections):
                    amount = 0.45
                if amount:
                    top = _blend(top, tint, amount)
                    bottom = _blend(bottom, tint, amount) if bottom is not None else None
                style = Style(
                    color=RichColor.from_rgb(*top),
                    bgcolor=RichColor.from_rgb(*bottom) if bottom is not None else None,
                )
                segments.append(Segment("▀", style))
            rest = width - left - cols
            if rest > 0:
                segments.append(Segment(" " * rest))
            strip = Strip(segments, width)
        self._strips[y] = strip
        return strip

    def on_unmount(self) -> None:
        self._strips.clear()
