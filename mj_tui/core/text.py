"""Text from a server, shown safely: in the TUI, on stdout and on stderr alike.

Anything a server sends is data, never terminal control: control characters (an ESC could
clear the screen, retitle the window or write the clipboard) are swapped for their
visible Unicode "control pictures", and characters that reorder or hide text go.
The TUI adds its own step (no markup) in :mod:`mj_tui.ui.text`.
"""

from __future__ import annotations

import re

# C0 controls except \t and \n, DEL, C1 controls
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# bidi overrides/isolates can reorder what is shown ("trojan source"); VS16 (U+FE0F)
# widens "⬅️" to two cells in Rich but not in tmux and many terminals, which shifts
# every cell after it, so it goes too (the symbol itself stays)
_INVISIBLE = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\ufe0f]")
_SPACES = re.compile(r"[\t\n]+")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # \x1b -> ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def clean(text: object, *, one_line: bool = False) -> str:
    """`text` with control characters made visible (and line breaks flattened if asked)."""
    value = "" if text is None else str(text)
    value = _INVISIBLE.sub("", _CONTROL.sub(_picture, value))
    if one_line:
        value = _SPACES.sub(" ", value)
    return value


def brief(text: object, limit: int = 300) -> str:
    """Server text as a message may quote it: clean, on one line, at most `limit` characters.

    A hostile or broken server can send a megabyte where a sentence belongs; a message
    quotes the start of it and says it was cut."""
    value = clean(text, one_line=True).strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def fmt_size(n: int) -> str:
    """1536 -> "1.5 KB": a size as a person reads it."""
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    unit = "KB"
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def exception_detail(exc: BaseException) -> str:
    """A library exception's own words, short (or its type when it has none)."""
    text = clean(exc, one_line=True).strip()  # a library may quote a server's bytes
    return text[:160] if text else type(exc).__name__
