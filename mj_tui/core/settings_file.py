"""Writing one setting chosen in the UI (a theme from the palette) back to the config file.

The file is the person's own: comments, order and every other line are kept. Only the
``key = value`` line in the named table changes (or is added, with the table if need
be), and the result must still parse before it replaces the file, atomically.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from pathlib import Path

from .errors import ConfigError

_TABLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")


def save_setting(path: Path, table: str, key: str, value: str) -> Path:
    """Set ``[table] key = "value"`` in the TOML file at `path`; returns the path."""
    line = f"{key} = {json.dumps(value, ensure_ascii=False)}"  # a JSON string is a TOML basic string
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    updated = _with_setting(text, table, key, line)
    try:
        tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:  # a file we could not edit safely: leave it alone
        raise ConfigError(f"{path} could not be updated ({exc}); set [{table}] {key} there by hand") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(updated)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _with_setting(text: str, table: str, key: str, line: str) -> str:
    lines = text.splitlines()
    setting = re.compile(rf"^\s*{re.escape(key)}\s*=")
    start = next((i for i, raw in enumerate(lines) if (m := _TABLE.match(raw)) and m.group(1).strip() == table), None)
    if start is None:
        tail = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return f"{text}{tail}[{table}]\n{line}\n"
    end = next((i for i in range(start + 1, len(lines)) if _TABLE.match(lines[i])), len(lines))
    for i in range(start + 1, end):
        if setting.match(lines[i]):
            comment = lines[i].split("#", 1)[1] if "#" in lines[i].split("=", 1)[1] else None
            lines[i] = f"{line}  # {comment.strip()}" if comment else line
            break
    else:
        lines.insert(start + 1, line)
    return "\n".join(lines) + "\n"
