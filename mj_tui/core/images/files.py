"""Files on disk: cache names for keys, and writes that are whole or not at all."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
)


def cache_name(key: str) -> str:
    """`key` as a file stem: [A-Za-z0-9_-] only, with a hash if anything was changed."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError("image cache key must be a non-empty string")
    name = KEY_UNSAFE.sub("_", key)[:80]
    # The hash keeps "a/b" and "a_b" apart once both are sanitized to "a_b".
    if name != key or name.upper() in WINDOWS_RESERVED:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        name = f"{name}-{digest}"
    return name


def file_sig(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def atomic_write(directory: Path, stem: str, write: Callable[[IO[bytes]], object], *, sync: bool = True) -> Path:
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
