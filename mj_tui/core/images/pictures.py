"""Pillow, safely: which formats are read, how many pixels, and the crops and scales
every picture goes through (quadrants of a grid, fitting a pane).

Shared by the image cache (previews) and export; nothing here touches the network.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from PIL import Image

from ..errors import ImageError

# Only what image CDNs serve.  Restricting Pillow's format sniffing keeps exotic
# decoders (EPS shells out to Ghostscript, for one) away from whatever bytes a
# URL happens to return.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")

# A preview's .info holds its PNG encoding under this key (the disk preview's bytes):
# whatever draws it and speaks PNG (kitty graphics) can send them instead of encoding again.
PNG_BYTES = "mj_tui.png"

ORIENTATION_TAG = 0x0112


def check_quadrant(quadrant: int | None) -> None:
    if quadrant is not None and (isinstance(quadrant, bool) or quadrant not in (1, 2, 3, 4)):
        raise ValueError(f"quadrant must be 1, 2, 3 or 4, not {quadrant!r}")


def check_box(max_width: int, max_height: int) -> None:
    if max_width < 1 or max_height < 1:
        raise ValueError(f"preview box must be at least 1x1, not {max_width}x{max_height}")


def display_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image carries any transparency."""
    if image.mode in ("RGB", "RGBA"):
        return image
    bands = image.getbands()
    alpha = "A" in bands or "a" in bands or "transparency" in image.info
    return image.convert("RGBA" if alpha else "RGB")


def open_bounded(source: Path | IO[bytes], where: str, max_pixels: int) -> Image.Image:
    """Image.open limited to known formats, with the pixel cap checked before any decode."""
    try:
        image = Image.open(source, formats=FORMATS)
    except Image.DecompressionBombError as exc:
        # Pillow's own hard limit (2x its global) fired before we saw the size.
        match = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{int(match.group(1)):,} pixels" if match else "more pixels than Pillow allows"
        raise ImageError(
            f"{where} declares {pixels}, over the {max_pixels:,}-pixel limit; refusing to "
            "decode it (possible decompression bomb)."
        ) from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageError(
            f"{where} is {width}x{height} ({width * height:,} pixels), over the {max_pixels:,}-pixel "
            "limit; refusing to decode it (possible decompression bomb)."
        )
    return image


def crop_quadrant(image: Image.Image, n: int) -> Image.Image:
    """One cell of a 2x2 grid: 1 top-left, 2 top-right, 3 bottom-left, 4 bottom-right."""
    check_quadrant(n)
    if n is None:
        raise ValueError("quadrant must be 1, 2, 3 or 4, not None")
    width, height = image.size
    if width < 2 or height < 2:
        raise ValueError(f"a {width}x{height} image is too small to split into quadrants")
    mid_x, mid_y = width // 2, height // 2
    left, right = (0, mid_x) if n in (1, 3) else (mid_x, width)
    top, bottom = (0, mid_y) if n in (1, 2) else (mid_y, height)
    return image.crop((left, top, right, bottom))


def fit_within(
    image: Image.Image, max_width: int, max_height: int, resample: Image.Resampling = Image.Resampling.LANCZOS
) -> Image.Image:
    """A copy scaled down (LANCZOS by default, aspect kept) to fit the box; never enlarged."""
    check_box(max_width, max_height)
    width, height = image.size
    scale = min(max_width / width, max_height / height)
    if scale >= 1:
        return image.copy()
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if image.mode in ("1", "P"):
        # Pillow silently resamples these modes with NEAREST; convert so LANCZOS applies.
        image = display_mode(image)
    # reducing_gap pre-shrinks big originals by integer factors first: much faster,
    # visually identical at 3.0 (Pillow's own guidance).
    return image.resize(size, resample, reducing_gap=3.0)
