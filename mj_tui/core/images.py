"""Download finished images once, keep them in a disk cache, serve previews.

Midjourney result URLs (Discord CDN) expire, so the first good download of a
task's image is kept under the caller's cache root for good.  `fetch` is async
and uses the caller's ``httpx.AsyncClient`` (it may be an in-process
ASGITransport for the demo, so this module never builds a client).  The other
methods are sync and decode with Pillow: the UI runs them in a thread worker.

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
import hashlib
import io
import os
import re
import tempfile
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from mj_tui.core.errors import ImageError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "PNG_BYTES",
    "ImageCache",
    "crop_quadrant",
    "fit_within",
    "safe_filename",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_PIXELS = 80_000_000

# Only what image CDNs serve.  Restricting Pillow's format sniffing keeps exotic
# decoders (EPS shells out to Ghostscript, for one) away from whatever bytes a
# URL happens to return.
_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")

# A preview's .info holds its PNG encoding under this key (the disk preview's bytes):
# a renderer that sends PNG (kitty graphics) can use them instead of encoding again.
PNG_BYTES = "mj_tui.png"

_ORIGINAL_SUFFIX = ".original"
_WORK_SUFFIX = ".work.ppm"  # PPM: no compression, so "decoding" is a copy
WORK_MAX = 1024  # the working copy's longest side
_MEMORY_PREVIEWS = 32  # thumbnails are small; this covers scrolling a task list
_DISK_PREVIEWS_PER_KEY = 6  # each terminal resize adds a box size; keep the newest few
_STALE_TMP_SECONDS = 3600
_CHUNK = 64 * 1024
_EXPIRED_STATUSES = frozenset({401, 403, 404, 410})
_ORIENTATION_TAG = 0x0112

_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
)
_PREVIEW_NAME = re.compile(r"\.(?:full|q[1-4])\.\d+x\d+\.png")


# --------------------------------------------------------------------------- helpers


def _cache_name(key: str) -> str:
    """`key` as a file stem: [A-Za-z0-9_-] only, with a hash if anything was changed."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError("image cache key must be a non-empty string")
    name = _KEY_UNSAFE.sub("_", key)[:80]
    # The hash keeps "a/b" and "a_b" apart once both are sanitized to "a_b".
    if name != key or name.upper() in _WINDOWS_RESERVED:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        name = f"{name}-{digest}"
    return name


def _display_url(url: str) -> str:
    """scheme://host/path only: Discord signs its links in the query string."""
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "an invalid link"
    if not parts.scheme:
        return "an invalid link"
    path = parts.path
    if len(path) > 120:
        path = f"{path[:60]}...{path[-40:]}"
    if not host:  # data:, mailto: and the like
        return f"{parts.scheme}:{path}"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{path}"


_URL_TAIL = re.compile(r"([a-z][a-z0-9+.-]*://[^\s?#'\"<>]*)[?#][^\s'\"<>]*", re.IGNORECASE)


def _scrub(text: str, url: str) -> str:
    """Drop query strings from library error text, which sometimes quotes the URL."""
    text = _URL_TAIL.sub(r"\1", text)
    with contextlib.suppress(ValueError):
        query = urlsplit(url).query
        if query:
            text = text.replace(query, "...")
    return text


def _fmt_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:160] if text else type(exc).__name__


def _error(message: str, *, status: int | None = None, retryable: bool = False) -> ImageError:
    err = ImageError(message, status=status)
    # ImageError is not retryable as a class; a timeout or a 5xx on one link is.
    if retryable:
        err.retryable = True
    return err


def _file_sig(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _check_quadrant(quadrant: int | None) -> None:
    if quadrant is not None and (isinstance(quadrant, bool) or quadrant not in (1, 2, 3, 4)):
        raise ValueError(f"quadrant must be 1, 2, 3 or 4, not {quadrant!r}")


def _check_box(max_width: int, max_height: int) -> None:
    if max_width < 1 or max_height < 1:
        raise ValueError(f"preview box must be at least 1x1, not {max_width}x{max_height}")


def _display_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image carries any transparency."""
    if image.mode in ("RGB", "RGBA"):
        return image
    bands = image.getbands()
    alpha = "A" in bands or "a" in bands or "transparency" in image.info
    return image.convert("RGBA" if alpha else "RGB")


def _atomic_write(directory: Path, stem: str, write, *, sync: bool = True) -> Path:
    """Write via `write(fileobj)` into a hidden tmp file in `directory`; return its path.

    sync=False for files that can be made again (previews): a damaged one is simply
    redrawn, and fsync can take tens of milliseconds on the way to the screen.
    """
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            # Without fsync a crash right after os.replace can leave a renamed but empty file.
            if sync:
                os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


# --------------------------------------------------------------------------- public helpers


def crop_quadrant(image: Image.Image, n: int) -> Image.Image:
    """One cell of a 2x2 grid: 1 top-left, 2 top-right, 3 bottom-left, 4 bottom-right."""
    _check_quadrant(n)
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
    _check_box(max_width, max_height)
    width, height = image.size
    scale = min(max_width / width, max_height / height)
    if scale >= 1:
        return image.copy()
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if image.mode in ("1", "P"):
        # Pillow silently resamples these modes with NEAREST; convert so LANCZOS applies.
        image = _display_mode(image)
    # reducing_gap pre-shrinks big originals by integer factors first: much faster,
    # visually identical at 3.0 (Pillow's own guidance).
    return image.resize(size, resample, reducing_gap=3.0)


_PROMPT_URL = re.compile(r"<?\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# Midjourney parameters always follow the subject; iOS turns "--" into an em dash.
_PROMPT_PARAMS = re.compile(r"(?:^|\s)(?:--|\u2014)[a-z]", re.IGNORECASE)
_SLUG_MAX = 48


def safe_filename(task_id: str, prompt: str, *, quadrant: int | None = None, ext: str = "png") -> str:
    """``<task_id>-<prompt slug>[-u<n>].<ext>``, safe on every common filesystem.

    The slug is ASCII, lowercase, dash-separated and at most 48 characters; image
    URLs and ``--parameters`` are left out as they are noise in a file name.
    """
    _check_quadrant(quadrant)
    tid = _KEY_UNSAFE.sub("-", str(task_id or "")).strip("-")[:64] or "image"
    text = _PROMPT_URL.sub(" ", str(prompt or ""))
    text = _PROMPT_PARAMS.split(text, maxsplit=1)[0]
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > _SLUG_MAX:
        cut = slug[:_SLUG_MAX]
        # End on a whole word unless that would throw away more than half.
        if slug[_SLUG_MAX] != "-" and "-" in cut[_SLUG_MAX // 2 :]:
            cut = cut[: cut.rindex("-")]
        slug = cut.strip("-")
    stem = tid + (f"-{slug}" if slug else "") + (f"-u{quadrant}" if quadrant else "")
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    suffix = re.sub(r"[^a-z0-9]", "", str(ext or "").lower()) or "png"
    return f"{stem}.{suffix}"


_EXPORT_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_IMAGE_SUFFIX = re.compile(r"\.(?:png|jpe?g|webp|gif)$", re.IGNORECASE)


def _export_stem(filename: str, fallback: str) -> str:
    # Only the last path component counts, whichever separator the caller used.
    base = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _IMAGE_SUFFIX.sub("", base)
    stem = _EXPORT_UNSAFE.sub("-", base).strip(" .")
    while len(stem.encode("utf-8", "surrogatepass")) > 200:  # leaves room for " (n).png" in 255 bytes
        stem = stem[:-1]
    if not stem:
        stem = fallback
    if stem.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    return stem


# --------------------------------------------------------------------------- the cache


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
        self._previews: OrderedDict[tuple, Image.Image] = OrderedDict()
        # name -> [lock, users]; dropped when unused so a lock never outlives its event loop
        self._fetch_locks: dict[str, list] = {}
        self._sweep_tmp()

    # ------------------------------------------------------------------ paths & validity

    def path_for(self, key: str) -> Path:
        return self.root / (_cache_name(key) + _ORIGINAL_SUFFIX)

    def cached(self, key: str) -> Path | None:
        """The original for `key` if it exists and still decodes, else None."""
        name = _cache_name(key)
        path = self.root / (name + _ORIGINAL_SUFFIX)
        try:
            sig = _file_sig(path.stat())
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
        client: httpx.AsyncClient,
        key: str,
        urls: Sequence[str],
        *,
        timeout: float = 60.0,
    ) -> Path:
        """The cached original, downloading it from the first working URL if needed.

        `timeout` bounds each network operation *and* the whole download of one
        URL, so a server dripping bytes can't hold a worker forever.
        """
        name = _cache_name(key)
        path = self.root / (name + _ORIGINAL_SUFFIX)
        if isinstance(urls, str):  # a lone str is a Sequence too: of characters
            urls = [urls]
        candidates = list(dict.fromkeys(u.strip() for u in urls if isinstance(u, str) and u.strip()))

        entry = self._fetch_locks.setdefault(name, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                # Checked under the lock: a second caller finds the first one's file.
                if await asyncio.to_thread(self.cached, key) is not None:
                    return path
                if not candidates:
                    raise _error(f"Task {key} has no image link yet; refresh it once it has finished.")
                last: ImageError | None = None
                for url in candidates:
                    try:
                        return await self._fetch_one(client, name, path, url, timeout)
                    except ImageError as exc:
                        last = exc
                assert last is not None
                if len(candidates) == 1:
                    raise last
                raise _error(
                    f"All {len(candidates)} image links for task {key} failed. Last error: {last.message}",
                    status=last.status,
                    retryable=last.retryable,
                )
        finally:
            entry[1] -= 1
            if entry[1] == 0 and self._fetch_locks.get(name) is entry:
                del self._fetch_locks[name]

    async def _fetch_one(self, client: httpx.AsyncClient, name: str, path: Path, url: str, timeout: float) -> Path:
        where = _display_url(url)
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme not in ("http", "https"):
            raise _error(f"Cannot download {where}: only http and https links are supported.")
        data, content_type = await self._download(client, url, where, timeout)
        # Decoding a big PNG takes a while: keep it off the event loop.
        await asyncio.to_thread(self._accept, name, path, data, where, content_type)
        return path

    async def _download(self, client: httpx.AsyncClient, url: str, where: str, timeout: float) -> tuple[bytes, str]:
        try:
            async with asyncio.timeout(timeout):
                async with client.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
                    status = response.status_code
                    if status in _EXPIRED_STATUSES:
                        raise _error(
                            f"The image link has expired or was removed (HTTP {status} from {where}). "
                            "Refresh the task to get a fresh link.",
                            status=status,
                        )
                    if status >= 400:
                        raise _error(
                            f"{where} answered HTTP {status}; the image could not be downloaded.",
                            status=status,
                            retryable=status >= 500 or status == 429,
                        )
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > self.max_bytes:
                        # Refuse before reading a byte of the body.
                        raise self._too_large(where, int(declared))
                    body = bytearray()
                    # aiter_bytes yields decoded bytes, so the cap also bounds a gzip bomb.
                    async for chunk in response.aiter_bytes(_CHUNK):
                        body += chunk
                        if len(body) > self.max_bytes:
                            raise self._too_large(where, None)
                    return bytes(body), response.headers.get("content-type", "")
        except ImageError:
            raise
        except (TimeoutError, httpx.TimeoutException):
            raise _error(
                f"Timed out after {timeout:g} s downloading {where}. Check your connection and try again.",
                retryable=True,
            ) from None
        except httpx.TooManyRedirects:
            raise _error(f"{where} redirected too many times; the link looks broken.") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _error(
                f"Could not download {where}: network error ({_scrub(_detail(exc), url)}).",
                retryable=True,
            ) from None

    def _too_large(self, where: str, declared: int | None) -> ImageError:
        cap = _fmt_size(self.max_bytes)
        if declared is None:  # no Content-Length: we only know we passed the cap
            return _error(f"The image at {where} is larger than the {cap} download limit; download stopped.")
        return _error(f"The image at {where} is {_fmt_size(declared)}, above the {cap} download limit; not downloaded.")

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
                raise _error(
                    f"{where} returned a page ({kind}) instead of an image; the link has probably "
                    "expired. Refresh the task to get a fresh link."
                ) from None
            raise _error(f"{where} did not return a readable image (PNG, JPEG, WebP or GIF).") from None
        except Exception as exc:  # OSError, SyntaxError, EOFError, zlib.error, struct.error...
            raise _error(
                f"The image from {where} is corrupt or incomplete ({_detail(exc)}). Try downloading it again.",
                retryable=True,
            ) from None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = _atomic_write(self.root, name, lambda fh: fh.write(data))
            os.replace(tmp, path)
            sig = _file_sig(path.stat())
        except OSError as exc:
            raise _error(
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

    def _open(self, source, where: str) -> Image.Image:
        """Image.open limited to known formats, with our pixel cap checked before any decode."""
        try:
            image = Image.open(source, formats=_FORMATS)
        except Image.DecompressionBombError as exc:
            # Pillow's own hard limit (2x its global) fired before we saw the size.
            match = re.search(r"\((\d+) pixels\)", str(exc))
            pixels = f"{int(match.group(1)):,} pixels" if match else "more pixels than Pillow allows"
            raise _error(
                f"{where} declares {pixels}, over the {self.max_pixels:,}-pixel limit; refusing to "
                "decode it (possible decompression bomb)."
            ) from None
        width, height = image.size
        if width * height > self.max_pixels:
            image.close()
            raise _error(
                f"{where} is {width}x{height} ({width * height:,} pixels), over the {self.max_pixels:,}-pixel "
                "limit; refusing to decode it (possible decompression bomb)."
            )
        return image

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
            raise _error(f"The image for {key} is not downloaded yet.") from None
        except Exception as exc:
            # Remember it is bad, so cached() says None and fetch() downloads it again.
            with self._lock:
                self._checked[name] = (sig, False)
            raise _error(f"{where} is damaged ({_detail(exc)}); download it again.") from None

    def _stat_original(self, key: str) -> tuple[str, Path, os.stat_result]:
        name = _cache_name(key)
        path = self.root / (name + _ORIGINAL_SUFFIX)
        try:
            return name, path, path.stat()
        except FileNotFoundError:
            raise _error(f"The image for {key} is not downloaded yet.") from None
        except OSError as exc:
            raise _error(f"Cannot read the image cache at {self.root}: {exc.strerror or exc}.") from None

    # ------------------------------------------------------------------ previews

    def preview(self, key: str, max_width: int, max_height: int, *, quadrant: int | None = None) -> Image.Image:
        """The original (or one quadrant) scaled down to fit the box, as RGB or RGBA.

        Blocking: call it from a thread.  Served from memory, then from the disk
        preview cache, and only then decoded from the original.
        """
        _check_box(max_width, max_height)
        _check_quadrant(quadrant)
        name, path, st = self._stat_original(key)
        sig = _file_sig(st)
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
            image = fit_within(_display_mode(image), max_width, max_height)
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
        shown = _display_mode(upright)
        if shown.mode != "RGB":
            return
        work = fit_within(shown, WORK_MAX, WORK_MAX)
        try:
            tmp = _atomic_write(self.root, name, lambda fh: work.save(fh, format="PPM"), sync=False)
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
                shown = _display_mode(image).copy()
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
            tmp = _atomic_write(self.root, name, lambda fh: fh.write(data), sync=False)
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

    def export(self, key: str, dest_dir: Path, filename: str, *, quadrant: int | None = None) -> Path:
        """Save the full original (or one quadrant at full resolution) as a new PNG in `dest_dir`.

        Never overwrites: an existing name gets " (2)", " (3)"... appended.
        """
        _check_quadrant(quadrant)
        name, path, st = self._stat_original(key)
        sig = _file_sig(st)
        stem = _export_stem(filename, fallback=name)

        data: bytes | None = None
        if quadrant is None:
            # An upright PNG original is copied byte for byte: lossless, keeps its metadata,
            # and skips a slow re-encode.
            with contextlib.suppress(Exception), self._open(path, "The cached image") as image:
                if image.format == "PNG" and image.getexif().get(_ORIENTATION_TAG, 1) == 1:
                    data = path.read_bytes()
        if data is None:
            image = self._load_original(key, name, path, sig)
            if quadrant:
                image = crop_quadrant(image, quadrant)
            if image.mode not in ("1", "L", "LA", "I", "P", "RGB", "RGBA"):
                image = _display_mode(image)  # CMYK, YCbCr... have no PNG form
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            data = buffer.getvalue()

        dest_dir = Path(dest_dir).expanduser()
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _error(f"Could not create the folder {dest_dir}: {exc.strerror or exc}.") from None
        for n in range(1, 10_000):
            target = dest_dir / (f"{stem}.png" if n == 1 else f"{stem} ({n}).png")
            try:
                # "x": fails rather than overwrite, even racing another export; closed below
                fh = open(target, "xb")  # noqa: SIM115
            except FileExistsError:
                continue
            except OSError as exc:
                raise _error(f"Could not save {target}: {exc.strerror or exc}.") from None
            try:
                with fh:
                    fh.write(data)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    target.unlink()
                raise _error(f"Could not save {target}: {exc.strerror or exc}. Check free disk space.") from None
            return target
        raise _error(f"{dest_dir} already holds too many files named {stem}; choose another name.")
