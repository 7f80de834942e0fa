"""One of a few choices on one line, changed with left/right (blend's portrait/square/landscape)."""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from ..look import MUTED


class Segments(Widget, can_focus=True):
    BINDINGS = [
        Binding("left", "step(-1)", "Previous", show=False),
        Binding("right", "step(1)", "Next", show=False),
    ]

    DEFAULT_CSS = """
    Segments {
        height: 1;
        width: auto;
    }
    """

    index = reactive(0)

    class Changed(Message):
        def __init__(self, segments: Segments, value: str) -> None:
            super().__init__()
            self.segments = segments
            self.value = value

        @property
        def control(self) -> Segments:
            return self.segments

    def __init__(self, options: list[tuple[str, str]], value: str | None = None, **kwargs) -> None:
        """options: (label, value) pairs."""
        super().__init__(**kwargs)
        self.options = options
        values = [v for _, v in options]
        self.set_reactive(Segments.index, values.index(value) if value in values else 0)

    @property
    def value(self) -> str:
        return self.options[self.index][1]

    def select(self, value: str) -> None:
        values = [v for _, v in self.options]
        if value in values:
            self.index = values.index(value)

    def render(self) -> Content:
        parts: list = [("◀ " if self.has_focus else "  ", "$accent")]
        for i, (label, _) in enumerate(self.options):
            if i:
                parts.append(("  ", ""))
            if i == self.index:
                style = (
                    "bold $block-cursor-foreground on $block-cursor-background" if self.has_focus else "bold reverse"
                )
                parts.append((f" {label} ", style))
            else:
                parts.append((f" {label} ", MUTED))
        parts.append((" ▶" if self.has_focus else "  ", "$accent"))
        return Content.assemble(*parts)

    def watch_index(self) -> None:
        self.post_message(self.Changed(self, self.value))

    def action_step(self, step: int) -> None:
        self.index = (self.index + step) % len(self.options)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event) -> None:
        # a click picks the segment under the pointer
        x = event.x - 2
        for i, (label, _) in enumerate(self.options):
            width = len(label) + 2
            if 0 <= x < width:
                self.index = i
                return
            x -= width + 2
