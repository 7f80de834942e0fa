"""Server text (prompts, fail reasons, button labels) shown literally and safely.

Anything a server sends is data, never markup or terminal control: `[bold]`
stays visible as typed, and control characters (an ESC could restyle or move
the real terminal) are swapped for their visible Unicode "control pictures".
"""

from __future__ import annotations

import re

from textual.content import Content

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


def literal(text: object, style: str = "", *, one_line: bool = False) -> Content:
    """Content that shows `text` exactly as sent: no markup parsing, no escapes."""
    return Content.styled(clean(text, one_line=one_line), style) if style else Content(clean(text, one_line=one_line))
