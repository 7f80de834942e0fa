"""Saving a picture where the person keeps their files: names, and never overwriting."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from pathlib import Path

from ..errors import ImageError
from .files import KEY_UNSAFE, WINDOWS_RESERVED
from .pictures import check_quadrant

_PROMPT_URL = re.compile(r"<?\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# Midjourney parameters always follow the subject; iOS turns "--" into an em dash.
_PROMPT_PARAMS = re.compile(r"(?:^|\s)(?:--|\u2014)[a-z]", re.IGNORECASE)
_SLUG_MAX = 48


def safe_filename(task_id: str, prompt: str, *, quadrant: int | None = None, ext: str = "png") -> str:
    """``<task_id>-<prompt slug>[-u<n>].<ext>``, safe on every common filesystem.

    The slug is ASCII, lowercase, dash-separated and at most 48 characters; image
    URLs and ``--parameters`` are left out as they are noise in a file name.
    """
    check_quadrant(quadrant)
    tid = KEY_UNSAFE.sub("-", str(task_id or "")).strip("-")[:64] or "image"
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
    if stem.upper() in WINDOWS_RESERVED:
        stem = f"_{stem}"
    suffix = re.sub(r"[^a-z0-9]", "", str(ext or "").lower()) or "png"
    return f"{stem}.{suffix}"


EXPORT_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
IMAGE_SUFFIX = re.compile(r"\.(?:png|jpe?g|webp|gif)$", re.IGNORECASE)


def export_stem(filename: str, fallback: str) -> str:
    # Only the last path component counts, whichever separator the caller used.
    base = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = IMAGE_SUFFIX.sub("", base)
    stem = EXPORT_UNSAFE.sub("-", base).strip(" .")
    while len(stem.encode("utf-8", "surrogatepass")) > 200:  # leaves room for " (n).png" in 255 bytes
        stem = stem[:-1]
    if not stem:
        stem = fallback
    if stem.split(".", 1)[0].upper() in WINDOWS_RESERVED:
        stem = f"_{stem}"
    return stem


def write_new_file(dest_dir: Path, stem: str, data: bytes, *, suffix: str = ".png") -> Path:
    """Write `data` as ``<stem><suffix>`` in `dest_dir` (made if missing); never overwrites:
    an existing name gets " (2)", " (3)"... appended."""
    dest_dir = Path(dest_dir).expanduser()
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(f"Could not create the folder {dest_dir}: {exc.strerror or exc}.") from None
    for n in range(1, 10_000):
        target = dest_dir / (f"{stem}{suffix}" if n == 1 else f"{stem} ({n}){suffix}")
        try:
            # "x": fails rather than overwrite, even racing another export; closed below
            fh = open(target, "xb")  # noqa: SIM115
        except FileExistsError:
            continue
        except OSError as exc:
            raise ImageError(f"Could not save {target}: {exc.strerror or exc}.") from None
        try:
            with fh:
                fh.write(data)
        except OSError as exc:
            with contextlib.suppress(OSError):
                target.unlink()
            raise ImageError(f"Could not save {target}: {exc.strerror or exc}. Check free disk space.") from None
        return target
    raise ImageError(f"{dest_dir} already holds too many files named {stem}; choose another name.")
