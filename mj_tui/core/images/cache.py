"""Download finished images once, keep them in a disk cache, serve previews.

Midjourney result URLs (Discord CDN) expire, so the first good download of a
task's image is kept under the caller's cache root for good.  `fetch` is async
and downloads through the `download` callable it is given (the HTTP layer's, so
this module never talks HTTP itself).  The other methods are sync and decode with
Pillow: callers run them in a thread.

Cache layout (all in ``root``)::

    <name>.original            the downloaded bytes, exactly as served
    <name>.q2.512x512.png      previews: "full" or "q1".."q4", then the box
    <name>.work.ppm            a big original scaled to 1024 px, uncompressed (see below)
    .<name>.<random>.tmp       in-flight writes, renamed into place atomically

``<name>`` is the key made filesystem-safe; it never contains a dot, so the
glob ``<name>.*`` only ever matches that key's own files.

The working copy is what makes a cached grid quick to show.  A real 2048x2048
Midjourney PNG (~9 MB) takes ~110 ms to decode and ~70 ms to scale on a modest
CPU; its working copy loads in ~1 ms and scales to a pane in ~15 ms.  It is made
where the original is decoded anyway (download check, first preview), and only
used when it holds at least as many pixels as the box asks for (a quadrant zoom
on a large pane still reads the original).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ImageError
from ..text import exception_detail
from ..urls import display_url
from .containers import EXIF_HEADER, ContainerError, png_exif, sniff
from .export import export_stem, write_new_file, write_replacing
from .files import atomic_write, cache_name, file_sig
from .metadata import Story, embed, sidecar_json
from .pictures import (
    ORIENTATION_TAG,
    PNG_BYTES,
    check_box,
    check_quadrant,
    crop_quadrant,
    display_mode,
    fit_within,
    open_bounded,
)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_PIXELS = 80_000_000

_ORIGINAL_SUFFIX = ".original"
_WORK_SUFFIX = ".work.ppm"  # PPM: no compression, so "decoding" is a copy
WORK_MAX = 1024  # the working copy's longest side
_MEMORY_PREVIEWS = 32  # thumbnails are small; this covers scrolling a task list
_DISK_PREVIEWS_PER_KEY = 6  # each terminal resize adds a box size; keep the newest few
_STALE_TMP_SECONDS = 3600
_PREVIEW_NAME = re.compile(r"\.(?:full|q[1-4])\.\d+x\d+\.png")


class Downloaded(Protocol):
    """What a download hands back: the body (bounded by the caller's cap) and its type."""

    @property
    def body(self) -> bytes: ...

    @property
    def content_type(self) -> str: ...


class Download(Protocol):
    """Downloads one URL with a size cap and a total time limit, raising ImageError."""

    def __call__(self, url: str, *, max_bytes: int, timeout: float = ...) -> Awaitable[Downloaded]: ...


#: a preview in memory: (cache name, quadrant, width, height, the original's file signature)
PreviewKey = tuple[str, int | None, int, int, tuple[int, int, int]]


@dataclass
class _FetchLock:
    lock: asyncio.Lock
    users: int = 0


class ImageCache:
    """Originals keyed by task, on disk; previews on disk and in memory.

    Safe to share between the event loop (``fetch``) and worker threads
    (``cached``, ``preview``, ``export``).
    """

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ):
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self.max_pixels = int(max_pixels)
        self._lock = threading.Lock()
        # name -> (file signature, decodes?): verify each original once per process
        self._checked: dict[str, tuple[tuple[int, int, int], bool]] = {}
        self._previews: OrderedDict[PreviewKey, Image.Image] = OrderedDict()
        # name -> its download lock and how many wait on it; dropped when unused, so a
        # lock never outlives its event loop
        self._fetch_locks: dict[str, _FetchLock] = {}
        self._sweep_tmp()

    # ------------------------------------------------------------------ paths & validity

    def path_for(self, key: str) -> Path:
        return self.root / (cache_name(key) + _ORIGINAL_SUFFIX)

    def cached(self, key: str) -> Path | None:
        """The original for `key` if it exists and still decodes, else None."""
        name = cache_name(key)
        path = self.root / (name + _ORIGINAL_SUFFIX)
        try:
            sig = file_sig(path.stat())
        except OSError:
            return None
        with self._lock:
            known = self._checked.get(name)
        if known is not None and known[0] == sig:
            return path if known[1] else None
        try:
            with self._open(path, "the cached image") as image:
                # verify() walks the chunks and CRCs of a PNG: catches a truncated file
                # without decoding it.  Formats it can't check fail later in preview(),
                # which then marks the file bad.
                image.verify()
            ok = True
        except Exception:  # Pillow raises a zoo of types on bad data
            ok = False
        with self._lock:
            self._checked[name] = (sig, ok)
        return path if ok else None

    # ------------------------------------------------------------------ download

    async def fetch(
        self,
        download: Download,
        key: str,
        urls: Sequence[str],
        *,
        timeout: float = 60.0,
    ) -> Path:
        """The cached original, downloading it from the first working URL if needed.

        `download(url, max_bytes=, timeout=)` fetches one URL; `timeout` bounds each
        network operation *and* the whole download, so a server dripping bytes can't
        hold a worker forever.
        """
        name = cache_name(key)
        path = self.root / (name + _ORIGINAL_SUFFIX)
        if isinstance(urls, str):  # a lone str is a Sequence too: of characters
            urls = [urls]
        candidates = list(dict.fromkeys(u.strip() for u in urls if isinstance(u, str) and u.strip()))

        entry = self._fetch_locks.setdefault(name, _FetchLock(asyncio.Lock()))
        entry.users += 1
        try:
            async with entry.lock:
                # Checked under the lock: a second caller finds the first one's file.
                if await asyncio.to_thread(self.cached, key) is not None:
                    return path
                if not candidates:
                    raise ImageError(f"Task {key} has no image link yet; refresh it once it has finished.")
                last: ImageError | None = None
                for url in candidates:
                    try:
                        return await self._fetch_one(download, name, path, url, timeout)
                    except ImageError as exc:
                        last = exc
                assert last is not None
                if len(candidates) == 1:
                    raise last
                raise ImageError(
                    f"All {len(candidates)} image links for task {key} failed. Last error: {last.message}",
                    status=last.status,
                    retryable=last.retryable,
                )
        finally:
            entry.users -= 1
            if entry.users == 0 and self._fetch_locks.get(name) is entry:
                del self._fetch_locks[name]

    async def _fetch_one(self, download: Download, name: str, path: Path, url: str, timeout: float) -> Path:
        where = display_url(url)
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme not in ("http", "https"):
            raise ImageError(f"Cannot download {where}: only http and https links are supported.")
        got = await download(url, max_bytes=self.max_bytes, timeout=timeout)
        # Decoding a big PNG takes a while: keep it off the event loop.
        await asyncio.to_thread(self._accept, name, path, got.body, where, got.content_type)
        return path

    def _open(self, source: Path | io.BytesIO, where: str) -> Image.Image:
        return open_bounded(source, where, self.max_pixels)

    def _accept(self, name: str, path: Path, data: bytes, where: str, content_type: str) -> None:
        """Check `data` fully decodes as an image, then store it as the original."""
        decoded = None
        try:
            with self._open(io.BytesIO(data), where) as image:
                image.verify()  # chunk structure and CRCs
            with self._open(io.BytesIO(data), where) as image:
                image.load()  # real decode: catches truncated JPEG/WebP that verify() passes
                if max(image.size) > WORK_MAX:  # kept for the working copy (closing frees it)
                    with contextlib.suppress(Exception):
                        decoded = ImageOps.exif_transpose(image)
        except ImageError:
            raise
        except UnidentifiedImageError:
            head = data[:256].lstrip().lower()
            if content_type.lower().startswith("text/") or head.startswith((b"<", b"{")):
                kind = content_type.split(";")[0].strip() or "text"
                raise ImageError(
                    f"{where} returned a page ({kind}) instead of an image; the link has probably "
                    "expired. Refresh the task to get a fresh link."
                ) from None
            raise ImageError(f"{where} did not return a readable image (PNG, JPEG, WebP or GIF).") from None
        except Exception as exc:  # OSError, SyntaxError, EOFError, zlib.error, struct.error...
            raise ImageError(
                f"The image from {where} is corrupt or incomplete ({exception_detail(exc)}). Try downloading it again.",
                retryable=True,
            ) from None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = atomic_write(self.root, name, lambda fh: fh.write(data))
            os.replace(tmp, path)
            sig = file_sig(path.stat())
        except OSError as exc:
            raise ImageError(
                f"Could not save the image in the cache folder {self.root}: {exc.strerror or exc}. "
                "Check free disk space and permissions."
            ) from None
        self._forget_previews(name)
        with self._lock:
            self._checked[name] = (sig, True)
        if decoded is not None:
            with contextlib.suppress(Exception):  # best effort, like every preview file
                self._write_work(name, decoded)

    # ------------------------------------------------------------------ decoding
    def _load_original(self, key: str, name: str, path: Path, sig: tuple[int, int, int]) -> Image.Image:
        """The cached original decoded and upright (EXIF orientation applied), detached from the file."""
        where = f"The cached image for {key}"
        try:
            with self._open(path, where) as image:
                image.load()
                return ImageOps.exif_transpose(image)  # always a copy, so safe past the close
        except ImageError:
            raise
        except FileNotFoundError:
            raise ImageError(f"The image for {key} is not downloaded yet.") from None
        except Exception as exc:
            # Remember it is bad, so cached() says None and fetch() downloads it again.
            with self._lock:
                self._checked[name] = (sig, False)
            raise ImageError(f"{where} is damaged ({exception_detail(exc)}); download it again.") from None

    def _stat_original(self, key: str) -> tuple[str, Path, os.stat_result]:
        name = cache_name(key)
        path = self.root / (name + _ORIGINAL_SUFFIX)
        try:
            return name, path, path.stat()
        except FileNotFoundError:
            raise ImageError(f"The image for {key} is not downloaded yet.") from None
        except OSError as exc:
            raise ImageError(f"Cannot read the image cache at {self.root}: {exc.strerror or exc}.") from None

    # ------------------------------------------------------------------ previews

    def preview(self, key: str, max_width: int, max_height: int, *, quadrant: int | None = None) -> Image.Image:
        """The original (or one quadrant) scaled down to fit the box, as RGB or RGBA.

        Blocking: call it from a thread.  Served from memory, then from the disk
        preview cache, and only then decoded from the original.
        """
        check_box(max_width, max_height)
        check_quadrant(quadrant)
        name, path, st = self._stat_original(key)
        sig = file_sig(st)
        memory_key = (name, quadrant, max_width, max_height, sig)
        with self._lock:
            hit = self._previews.get(memory_key)
            if hit is not None:
                self._previews.move_to_end(memory_key)
                return hit.copy()  # callers may draw on what they get

        preview_path = self.root / f"{name}.{f'q{quadrant}' if quadrant else 'full'}.{max_width}x{max_height}.png"
        image = self._read_preview(preview_path, st, max_width, max_height)
        if image is None:
            image = self._from_work(name, st, max_width, max_height, quadrant)
            if image is not None:
                self._write_preview(name, preview_path, image)
        if image is None:
            original = self._load_original(key, name, path, sig)
            image = crop_quadrant(original, quadrant) if quadrant else original
            image = fit_within(display_mode(image), max_width, max_height)
            self._write_preview(name, preview_path, image)
            if not self._work_is_fresh(name, st):
                with contextlib.suppress(Exception):
                    self._write_work(name, original)

        with self._lock:
            self._previews[memory_key] = image
            self._previews.move_to_end(memory_key)
            while len(self._previews) > _MEMORY_PREVIEWS:
                self._previews.popitem(last=False)
        return image.copy()

    def _work_path(self, name: str) -> Path:
        return self.root / (name + _WORK_SUFFIX)

    def _work_is_fresh(self, name: str, original: os.stat_result) -> bool:
        try:
            return self._work_path(name).stat().st_mtime_ns >= original.st_mtime_ns
        except OSError:
            return False

    def _write_work(self, name: str, upright: Image.Image) -> None:
        """The working copy of a big RGB original (upright); nothing for small or RGBA ones."""
        if max(upright.size) <= WORK_MAX:
            return
        shown = display_mode(upright)
        if shown.mode != "RGB":
            return
        work = fit_within(shown, WORK_MAX, WORK_MAX)
        try:
            tmp = atomic_write(self.root, name, lambda fh: work.save(fh, format="PPM"), sync=False)
            os.replace(tmp, self._work_path(name))
        except (OSError, ValueError):
            return

    def _from_work(
        self, name: str, original: os.stat_result, max_width: int, max_height: int, quadrant: int | None
    ) -> Image.Image | None:
        """The preview made from the working copy, or None when there is none (or it is
        stale, damaged, or too small for this box: the original would give more pixels)."""
        if not self._work_is_fresh(name, original):
            return None
        try:
            with Image.open(self._work_path(name), formats=("PPM",)) as image:
                width, height = image.size
                if quadrant:
                    width, height = width // 2, height // 2
                if min(max_width / width, max_height / height) > 1:
                    return None  # the box wants more pixels than the copy has
                image.load()
                work = image.convert("RGB") if image.mode != "RGB" else image.copy()
        except Exception:
            return None
        if quadrant:
            work = crop_quadrant(work, quadrant)
        # the copy is at most ~2x the box here, where bicubic looks the same as LANCZOS
        # and takes two thirds of the time
        return fit_within(work, max_width, max_height, Image.Resampling.BICUBIC)

    def _read_preview(
        self, path: Path, original: os.stat_result, max_width: int, max_height: int
    ) -> Image.Image | None:
        try:
            if path.stat().st_mtime_ns < original.st_mtime_ns:
                return None  # made from an older original (replaced by another process)
            data = path.read_bytes()
            with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
                if image.width > max_width or image.height > max_height:
                    return None
                image.load()
                shown = display_mode(image).copy()
        except Exception:  # missing or damaged: just render it again
            return None
        if shown.mode == image.mode:  # the bytes are this very picture
            shown.info[PNG_BYTES] = data
        return shown

    def _write_preview(self, name: str, path: Path, image: Image.Image) -> None:
        """Save `image` as the disk preview at `path`; its PNG bytes also go in its .info."""
        # Best effort: the preview cache is an optimisation, never a reason to fail.
        try:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", compress_level=1)  # fast: on the way to the screen
            data = buffer.getvalue()
            image.info[PNG_BYTES] = data
            tmp = atomic_write(self.root, name, lambda fh: fh.write(data), sync=False)
            os.replace(tmp, path)
        except (OSError, ValueError):
            return
        try:
            mine = [p for p in self.root.glob(f"{name}.*.png") if _PREVIEW_NAME.fullmatch(p.name[len(name) :])]
            mine.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
            for old in mine[_DISK_PREVIEWS_PER_KEY:]:
                old.unlink(missing_ok=True)
        except OSError:
            pass

    def _forget_previews(self, name: str) -> None:
        """Drop every preview of `name` (its original was just replaced)."""
        with self._lock:
            for memory_key in [k for k in self._previews if k[0] == name]:
                del self._previews[memory_key]
        with contextlib.suppress(OSError):
            self._work_path(name).unlink(missing_ok=True)
            for p in self.root.glob(f"{name}.*.png"):
                if _PREVIEW_NAME.fullmatch(p.name[len(name) :]):
                    p.unlink(missing_ok=True)

    def _sweep_tmp(self) -> None:
        """Remove tmp files a crashed process left behind (old ones only: others may be live)."""
        cutoff = time.time() - _STALE_TMP_SECONDS
        with contextlib.suppress(OSError):
            for p in self.root.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    if p.stat().st_mtime < cutoff:
                        p.unlink()

    # ------------------------------------------------------------------ export
    def saved_kind(self, key: str, *, quadrant: int | None = None) -> str:
        """The extension a save of `key` gets: the original's own format for a whole JPEG or
        WebP, else "png". Reads a few bytes, never decodes; "png" when nothing is cached."""
        if quadrant is not None:
            return "png"
        try:
            with open(self.path_for(key), "rb") as fh:
                head = fh.read(16)
        except OSError:
            return "png"
        return _KEEPS_FORMAT.get(sniff(head) or "", "png")

    def export(
        self,
        key: str,
        dest_dir: Path,
        filename: str,
        *,
        quadrant: int | None = None,
        story: Story | None = None,
        sidecar: bool = False,
    ) -> Path:
        """Save the full original (or one quadrant at full resolution) as a new file in
        `dest_dir`, with `story` written into it (and beside it as JSON with `sidecar`).

        A whole PNG, JPEG or WebP original keeps its format and its encoded image data byte
        for byte; a quadrant, a GIF or a picture turned by its EXIF orientation is encoded
        as an upright PNG. The extension follows the format, whatever `filename` says.
        Never overwrites: an existing name gets " (2)", " (3)"... appended.
        """
        check_quadrant(quadrant)
        name, path, st = self._stat_original(key)
        sig = file_sig(st)
        stem = export_stem(filename, fallback=name)

        data: bytes | None = None
        kind = "png"
        size: tuple[int, int] | None = None
        if quadrant is None:
            data, kind, size = self._keepable(path)
        if data is not None and story is not None:
            try:
                data = embed(data, kind, story, size=size)
            except ContainerError:
                data = None  # a structure Pillow reads but this client cannot edit: encode anew
        if data is None:
            image = self._load_original(key, name, path, sig)
            if quadrant:
                image = crop_quadrant(image, quadrant)
            if image.mode not in ("1", "L", "LA", "I", "P", "RGB", "RGBA"):
                image = display_mode(image)  # CMYK, YCbCr... have no PNG form
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            data, kind = buffer.getvalue(), "png"
            if story is not None:
                data = embed(data, kind, story)

        saved = write_new_file(dest_dir, stem, data, suffix="." + _KEEPS_FORMAT.get(kind, "png"))
        if sidecar and story is not None:
            try:
                write_replacing(saved.with_suffix(".json"), sidecar_json(story, saved.name).encode("utf-8"))
            except ImageError as exc:
                raise type(exc)(f"{saved} is saved, but its sidecar could not be: {exc.message}") from None
        return saved

    def _keepable(self, path: Path) -> tuple[bytes | None, str, tuple[int, int] | None]:
        """The original's bytes, format and size when it can be saved as it is: an upright
        PNG, JPEG or WebP (a JPEG's orientation tag is honoured by every viewer; a PNG's
        or WebP's is not, so those are turned and encoded as PNG)."""
        try:
            data = path.read_bytes()
            kind = sniff(data[:16])
            if kind not in _KEEPS_FORMAT:
                return None, "png", None
            if kind == "png":
                exif = png_exif(data)  # the chunks, not a decode: Pillow's getexif() decodes a PNG
                if exif is not None and _orientation(exif) != 1:
                    return None, "png", None
                return data, kind, None
            with self._open(io.BytesIO(data), "The cached image") as image:
                if kind == "webp" and image.getexif().get(ORIENTATION_TAG, 1) != 1:
                    return None, "png", None
                return data, kind, image.size
        except Exception:  # unreadable here: the decode path says what is wrong
            return None, "png", None


# formats a whole original is saved in as it is, and their file extensions
_KEEPS_FORMAT = {"png": "png", "jpeg": "jpg", "webp": "webp"}


def _orientation(tiff: bytes) -> int:
    exif = Image.Exif()
    try:
        exif.load(EXIF_HEADER + tiff)
        value = exif.get(ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) else 1
