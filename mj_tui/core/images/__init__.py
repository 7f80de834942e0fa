"""Finished images: downloaded once, kept on disk, shown as previews, saved for the person.

:mod:`.cache` keeps originals and previews, :mod:`.pictures` is Pillow used safely (formats,
pixel caps, crops, scaling), :mod:`.export` names and writes saved files, :mod:`.metadata`
writes the task's story into them (through :mod:`.containers`, which edits PNG, JPEG and
WebP files without touching their pixels), :mod:`.files` the cache's own file handling.
Downloads themselves go through :mod:`mj_tui.core.http`.
"""

from __future__ import annotations

from .cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, Download, ImageCache
from .export import FolderError, dated_filename, safe_filename
from .metadata import Story, read_metadata, story_of
from .pictures import PNG_BYTES, crop_quadrant, fit_within

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "PNG_BYTES",
    "Download",
    "FolderError",
    "ImageCache",
    "Story",
    "crop_quadrant",
    "dated_filename",
    "fit_within",
    "read_metadata",
    "safe_filename",
    "story_of",
]
