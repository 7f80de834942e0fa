"""Choosing the image renderer, once, before the App takes over the terminal.

textual-image asks the terminal what it supports when it is first imported
(Sixel? kitty graphics? cell size?).  Those answers can only be read before
Textual starts reading stdin, so `load_graphics` runs in `run_app`, never
inside the App.  Odd ptys make that import fail; then we fall back to
half-cell blocks, which work everywhere, tmux and SSH included.

When the user names the renderer (`--graphics halfcell`, `tgp`...) nothing needs
asking, so nothing is asked: the queries are not harmless everywhere (tmux shows a
kitty-graphics query as the pane's title). The cell size then comes from the kernel
(the pty's pixel size, no bytes written) or textual-image's default.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass

# cells of a half-cell / unicode picture: one pixel wide, two tall
BLOCK_PIXELS = (1, 2)


@dataclass(frozen=True)
class Graphics:
    name: str  # what is in use: tgp, sixel, halfcell, unicode or none
    image_class: type | None
    pixels_per_cell: tuple[int, int]
    note: str = ""  # why the choice differs from what was asked, if it does


@contextlib.contextmanager
def _no_terminal_queries() -> Iterator[None]:
    """textual-image asks nothing while this is open.

    Each of its queries (Sixel's `ESC [ c`, kitty graphics' `ESC _ G ... a=q`, the cell
    size's `ESC [ 16 t`) first checks that stdin is there to read the answer from, and
    gives up, writing nothing, when it is not; the import then picks its fallbacks.
    tests/core/test_graphics_probe.py watches a real pty for any of those bytes."""
    stdin = sys.__stdin__
    sys.__stdin__ = None  # type: ignore[misc]
    try:
        yield
    finally:
        sys.__stdin__ = stdin  # type: ignore[misc]


def _import_widgets(*, probe: bool = True):
    with contextlib.nullcontext() if probe else _no_terminal_queries():
        import textual_image.renderable
        import textual_image.widget

    return textual_image.widget


def _import_without_queries():
    """Import again with the terminal queries disabled (after they crashed)."""
    from textual_image import _terminal

    with _no_terminal_queries():
        from textual_image.renderable import sixel, tgp

    _terminal.get_cell_size._result = _terminal.CellSize(10, 20)  # type: ignore[attr-defined]  # its cache
    sixel.query_terminal_support = lambda *a, **k: False
    tgp.query_terminal_support = lambda *a, **k: False
    return _import_widgets(probe=False)


def load_graphics(choice: str = "auto") -> Graphics:
    """Import textual-image and pick the widget class for `choice`."""
    # its cell-size probe logs a traceback at WARNING on terminals that do not answer
    logging.getLogger("textual_image").setLevel(logging.ERROR)
    choice = (choice or "auto").lower()
    if choice == "none":
        return Graphics("none", None, BLOCK_PIXELS)
    note = ""
    try:
        # only "auto" needs to know what the terminal can do
        widgets = _import_widgets(probe=choice == "auto")
    except Exception as exc:  # ZeroDivisionError on a 0-column pty, TerminalError, ...
        note = f"terminal detection failed ({type(exc).__name__}); using half-cell blocks"
        try:
            widgets = _import_without_queries()
        except Exception:
            return Graphics("none", None, BLOCK_PIXELS, note="textual-image could not be loaded")
        if choice == "auto":
            choice = "halfcell"
    classes = {
        "tgp": widgets.TGPImage,
        "sixel": widgets.SixelImage,
        "halfcell": widgets.HalfcellImage,
        "unicode": widgets.UnicodeImage,
    }
    if choice == "auto":
        from textual_image.renderable import Image as Auto
        from textual_image.renderable import SixelImage, TGPImage, UnicodeImage

        choice = {SixelImage: "sixel", TGPImage: "tgp", UnicodeImage: "unicode"}.get(Auto, "halfcell")
    image_class = classes.get(choice, widgets.HalfcellImage)
    if choice == "tgp":
        from .kitty_image import KittyImage  # TGPImage, with the encoding done off the UI thread

        image_class = KittyImage
    elif choice == "sixel":
        from .sixel_image import SixelImage as PreparedSixel  # the same for Sixel

        image_class = PreparedSixel
    if choice in ("tgp", "sixel"):
        from textual_image._terminal import get_cell_size

        try:
            size = get_cell_size()
            pixels = (max(1, size.width), max(1, size.height))
        except Exception:
            pixels = (10, 20)
    else:
        pixels = BLOCK_PIXELS
    return Graphics(choice, image_class, pixels, note)
