"""Finished images: downloaded once, kept on disk, shown as previews, saved for the person.

:mod:`.cache` keeps originals and previews, :mod:`.pictures` is Pillow used safely (formats,
pixel caps, crops, scaling), :mod:`.export` names and writes saved files, :mod:`.files` the
cache's own file handling. Downloads themselves go through :mod:`mj_tui.core.http`.
"""

from __future__ import annotations

from .cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, Download, ImageCache
from .export import safe_filename
from .pictures import PNG_BYTES, crop_quadrant, fit_within

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "PNG_BYTES",
    "Download",
    "ImageCache",
    "crop_quadrant",
    "fit_within",
    "safe_filename",
]
