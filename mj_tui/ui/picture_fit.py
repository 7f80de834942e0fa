"""Fitting a picture to cells, and encoding it ahead for the terminal's image protocol.

The preview pane and the gallery's tiles both get their pictures already scaled
to the box they fill (in pixels), in a worker thread; kitty graphics and Sixel
then also want them encoded, which is slow enough (tens of ms to ~0.5 s) to be
kept off the UI thread too. Both do that through `encode_ahead`.
"""

from __future__ import annotations

import math

from PIL import Image as PILImage
from textual.widget import Widget


def cells_for(image: PILImage.Image, pixels_per_cell: tuple[int, int]) -> tuple[int, int]:
    """Columns and rows a picture takes (it arrives fitted to its box in pixels)."""
    px, py = pixels_per_cell
    return max(1, math.ceil(image.width / px)), max(1, math.ceil(image.height / py))


def box_for(cells: tuple[int, int], pixels_per_cell: tuple[int, int]) -> tuple[int, int]:
    """The pixel box `cells` (columns, rows) of the terminal hold."""
    (cols, rows), (px, py) = cells, pixels_per_cell
    return max(1, cols) * px, max(1, rows) * py


def backdrop_of(widget: Widget) -> tuple[int, int, int, float]:
    """The colour behind a picture, (r, g, b, a): Sixel encodes against it."""
    _, colour = widget.background_colors
    return colour.r, colour.g, colour.b, colour.a


def encode_ahead(
    image_class: type | None,
    image: PILImage.Image,
    pixels_per_cell: tuple[int, int],
    backdrop: tuple,
) -> dict[str, object] | None:
    """Encode `image` as `image_class` will draw it (kitty: base64 PNG; Sixel: its text;
    half-blocks: the lines of cells),
    stored in the image's `.info`; returns what to put back in `.info` to skip the work
    next time. None for renderers with nothing to encode (half-cell blocks) and when the
    encoding fails (the widget encodes it itself then). Blocking: call it in a thread."""
    prepare = getattr(image_class, "prepare", None)
    if prepare is None:
        return None
    try:
        cells = cells_for(image, pixels_per_cell)
        return prepare(image, box_for(cells, pixels_per_cell), backdrop, cells=cells)
    except Exception:
        return None
