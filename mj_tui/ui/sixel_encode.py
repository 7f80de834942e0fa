"""A Sixel encoder in pure Python and Pillow, fast enough without numpy.

Pillow picks the palette (fast octree, at most 256 colours: median cut costs 100x more) and dithers; then each band of
six pixel rows is encoded colour by colour. The per-pixel work is done by bytes.translate
and big-integer arithmetic, which run in C: for one colour, the band's rows become 0/1
bytes; shifting row k's bytes (as one integer) by k bits and adding them gives each
column's six-bit sixel value in its own byte, as no byte ever carries into the next; adding
63 to every byte at once makes them the sixel characters. Runs are then shortened with
Sixel's repeat introducer.

Every pixel is painted (the picture is opaque), so nothing of what was under the picture
shows through, and each colour is drawn once per band, left to right.
"""

from __future__ import annotations

import re

from PIL import Image

_RUN = re.compile(rb"(.)\1{3,}")
_MARKS: list[bytes] = []  # _MARKS[c]: a translate table sending byte c to 1 and the rest to 0


def _marks() -> list[bytes]:
    if not _MARKS:
        _MARKS.extend(bytes(1 if i == c else 0 for i in range(256)) for c in range(256))
    return _MARKS


def _runs(match: re.Match[bytes]) -> bytes:
    run = match.group()
    return b"!%d%c" % (len(run), run[0])


def encode(image: Image.Image, colours: int = 256) -> str:
    """The Sixel sequence (DCS ... ST) drawing `image` at its size, from the cursor."""
    rgb = image.convert("RGB")
    indexed = rgb.quantize(colors=colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG)
    width, height = indexed.size
    palette = indexed.getpalette() or []
    pixels = indexed.tobytes()
    used = sorted(set(pixels))
    out = [b'\x1bP0;1;0q"1;1;%d;%d' % (width, height)]
    for c in used:
        r, g, b = palette[3 * c : 3 * c + 3]
        out.append(b"#%d;2;%d;%d;%d" % (c, round(r * 100 / 255), round(g * 100 / 255), round(b * 100 / 255)))
    marks = _marks()
    offset = int.from_bytes(b"\x3f" * width, "big")
    bands = []
    for top in range(0, height, 6):
        band = pixels[top * width : min(height, top + 6) * width]
        rows = len(band) // width
        lines = []
        for c in sorted(set(band)):
            hits = band.translate(marks[c])
            value = 0
            for k in range(rows):
                value += int.from_bytes(hits[k * width : (k + 1) * width], "big") << k
            line = (value + offset).to_bytes(width, "big").rstrip(b"?")
            lines.append(b"#%d" % c + _RUN.sub(_runs, line))
        bands.append(b"$".join(lines))
    out.append(b"-".join(bands))
    out.append(b"\x1b\\")
    return b"".join(out).decode("ascii")
