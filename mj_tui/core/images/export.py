"""Saving a picture where the person keeps their files: names, and never overwriting."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ImageError
from .files import KEY_UNSAFE, WINDOWS_RESERVED
from .pictures import check_quadrant

_PROMPT_URL = re.compile(r"<?\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# Midjourney parameters always follow the subject; iOS turns "--" into an em dash.
_PROMPT_PARAMS = re.compile(r"(?:^|\s)(?:--|\u2014)[a-z]", re.IGNORECASE)
_SLUG_MAX = 48


def prompt_slug(prompt: str) -> str:
    """The prompt's subject as ASCII, lowercase and dash-separated, at most 48 characters
    (image URLs and ``--parameters`` are left out: they are noise in a file name)."""
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
    return slug


def _id_part(task_id: str) -> str:
    return KEY_UNSAFE.sub("-", str(task_id or "")).strip("-")[:64] or "image"


def _suffix(ext: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(ext or "").lower()) or "png"


def _not_reserved(stem: str) -> str:
    return f"_{stem}" if stem.upper() in WINDOWS_RESERVED else stem


def safe_filename(task_id: str, prompt: str, *, quadrant: int | None = None, ext: str = "png") -> str:
    """``<task_id>-<prompt slug>[-u<n>].<ext>``, safe on every common filesystem."""
    check_quadrant(quadrant)
    slug = prompt_slug(prompt)
    stem = _id_part(task_id) + (f"-{slug}" if slug else "") + (f"-u{quadrant}" if quadrant else "")
    return f"{_not_reserved(stem)}.{_suffix(ext)}"


def dated_filename(
    task_id: str, prompt: str, when: datetime | None, *, quadrant: int | None = None, ext: str = "png"
) -> str:
    """``<YYYY-MM-DD>-<prompt slug>-<task_id>[-u<n>].<ext>``: a folder of exports sorts by day.

    The date is the day the task was submitted, in UTC, so the same task gets the same name
    wherever and whenever it is exported again (a resumed export finds it)."""
    check_quadrant(quadrant)
    day = when.astimezone(UTC).strftime("%Y-%m-%d") if when is not None else "undated"
    slug = prompt_slug(prompt)
    stem = day + (f"-{slug}" if slug else "") + f"-{_id_part(task_id)}" + (f"-u{quadrant}" if quadrant else "")
    return f"{stem}.{_suffix(ext)}"


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


class FolderError(ImageError):
    """The folder itself cannot take a file (not a folder, read-only, no rights, a full
    disk): every other save there would fail the same way, so a bulk export stops."""

    title = "Cannot save there"


#: in-flight writes in a destination folder; hidden, and swept when an export finds old ones
PART_SUFFIX = ".mj-tui-part"
_STALE_PART_SECONDS = 3600
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_NOT_WRITABLE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
# link() refused by the filesystem itself (FAT, some network shares), not by the folder
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS, errno.EMLINK})


def folder_problem(folder: Path, exc: OSError) -> ImageError:
    """What a failed write in `folder` means for the person, as an error to show."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in _FULL:
        return FolderError(
            f"The disk holding {folder} is full ({reason}). Free some space or choose another folder, "
            "then save again; nothing half-written was left there."
        )
    if exc.errno == errno.EFBIG:
        return FolderError(f"{folder} takes no file this large ({reason}). Choose another folder.")
    if exc.errno in _NOT_WRITABLE:
        return FolderError(f"Cannot write in {folder} ({reason}). Choose another folder, or make this one writable.")
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return FolderError(f"Cannot use {folder} as a folder: part of that path is a file. Choose another folder.")
    return ImageError(f"Could not save in {folder}: {reason}.")


def ensure_folder(folder: Path) -> Path:
    """`folder` (``~`` expanded), made if missing; FolderError when it cannot be a folder."""
    folder = Path(folder).expanduser()
    try:
        if folder.exists() and not folder.is_dir():
            raise FolderError(f"{folder} is a file, not a folder. Choose a folder to save in.")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise folder_problem(folder, exc) from None
    return folder


def check_writable(folder: Path) -> Path:
    """ensure_folder, then prove a file can be written there (and sweep what a killed run
    left half-written): a bulk export says so once, before it fetches anything."""
    folder = ensure_folder(folder)
    try:
        write_part(folder, b"").unlink()
    except OSError as exc:
        raise folder_problem(folder, exc) from None
    cutoff = time.time() - _STALE_PART_SECONDS
    with contextlib.suppress(OSError):
        for part in folder.glob(f".*{PART_SUFFIX}"):
            with contextlib.suppress(OSError):
                if part.stat().st_mtime < cutoff:
                    part.unlink()
    return folder


def write_part(folder: Path, data: bytes) -> Path:
    """`data` written and synced under a hidden temporary name in `folder` (raises OSError).

    Made with the person's usual permissions (umask), unlike mkstemp's owner-only ones: the
    file is renamed into place as it is."""
    for _ in range(100):
        part = folder / f".{secrets.token_hex(8)}{PART_SUFFIX}"
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                # without fsync a crash right after the rename can leave a named but empty file
                os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                part.unlink()
            raise
        return part
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def _claim(part: Path, target: Path) -> None:
    """Give `part` the name `target` unless that name is taken (FileExistsError)."""
    try:
        os.link(part, target)  # atomic, and fails rather than overwrite
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # no hard links here: claim the name with an empty file, then move the whole one onto it
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.replace(part, target)


def write_new_file(dest_dir: Path, stem: str, data: bytes, *, suffix: str = ".png") -> Path:
    """Write `data` as ``<stem><suffix>`` in `dest_dir` (made if missing); never overwrites:
    an existing name gets " (2)", " (3)"... appended.

    Whole or not at all: the bytes go to a hidden temporary file first, which then takes the
    name, so a full disk or a killed process never leaves a half-written picture."""
    folder = ensure_folder(dest_dir)
    try:
        part = write_part(folder, data)
    except OSError as exc:
        raise folder_problem(folder, exc) from None
    try:
        for n in range(1, 10_000):
            target = folder / (f"{stem}{suffix}" if n == 1 else f"{stem} ({n}){suffix}")
            try:
                _claim(part, target)
            except FileExistsError:
                continue
            except OSError as exc:
                raise folder_problem(folder, exc) from None
            return target
        raise ImageError(f"{folder} already holds too many files named {stem}; choose another name.")
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)


def write_replacing(target: Path, data: bytes) -> Path:
    """`data` as `target`, replacing a file of that name whole (for derived files: a sidecar)."""
    folder = target.parent
    try:
        part = write_part(folder, data)
    except OSError as exc:
        raise folder_problem(folder, exc) from None
    try:
        os.replace(part, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        raise folder_problem(folder, exc) from None
    return target
