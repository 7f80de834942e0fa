"""Server text in the TUI: shown literally, never as markup or terminal control.

`clean` is the core's one sanitizer (control characters made visible); `literal`
adds what only the TUI needs: no markup parsing, so `[bold]` stays visible as typed.
"""

from __future__ import annotations

from textual.content import Content

from ..core.text import clean

__all__ = ["clean", "literal"]


def literal(text: object, style: str = "", *, one_line: bool = False) -> Content:
    """Content that shows `text` exactly as sent: no markup parsing, no escapes."""
    return Content.styled(clean(text, one_line=one_line), style) if style else Content(clean(text, one_line=one_line))
