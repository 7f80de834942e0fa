"""The speed-mode picker under the prompt: one line, one widget.

Textual's Select is six widgets, each with its own styles (a button, a label, an
arrow, a hidden dropdown list of options); on the way to the first frame it made a
fifth of the work (function calls from the app's start to the first frame: 372k with
it, 293k without).  Two or three modes need no dropdown: enter, space or a click
move to the next one, left and right step either way, and ctrl+t does it from anywhere.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from ...core.models import Mode


class ModeChip(Widget, can_focus=True):
    BINDINGS = [
        Binding("enter,space,right", "step(1)", "Next mode", id="mode-next", show=False),
        Binding("left", "step(-1)", "Previous mode", id="mode-previous", show=False),
    ]
    DEFAULT_CSS = """
    ModeChip {
        height: 1;
        padding: 0 1;
        background: $boost;
        color: $text-muted;
    }
    ModeChip:hover {
        color: $text;
    }
    ModeChip:focus {
        background: $accent;
        color: $text;
        text-style: bold;
    }
    """

    value: reactive[Mode | None] = reactive(None, init=False)

    class Changed(Message):
        """The mode was changed (by a key, a click, or `value`)."""

        def __init__(self, chip: ModeChip, value: Mode | None) -> None:
            super().__init__()
            self.chip = chip
            self.value = value

        @property
        def control(self) -> ModeChip:
            return self.chip

    def __init__(self, modes: tuple[Mode, ...], value: Mode | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.modes = modes
        self.tooltip = "Speed mode: enter or a click for the next one (ctrl+t from anywhere)"
        with self.prevent(self.Changed):
            self.set_reactive(ModeChip.value, value if value in modes else (modes[0] if modes else None))

    def set_modes(self, modes: tuple[Mode, ...]) -> None:
        """New choices, keeping the current one if offered; no Changed message."""
        self.modes = modes
        current = self.value if self.value in modes else (modes[0] if modes else None)
        with self.prevent(self.Changed):
            self.value = current
        self.refresh()

    def step(self, by: int = 1) -> Mode | None:
        if self.modes:
            index = self.modes.index(self.value) + by if self.value in self.modes else 0
            self.value = self.modes[index % len(self.modes)]
        return self.value

    def action_step(self, by: int) -> None:
        self.step(by)

    def on_click(self) -> None:
        self.step(1)

    def watch_value(self, value: Mode | None) -> None:
        self.post_message(self.Changed(self, value))

    def render(self) -> Content:
        if self.value is None:
            return Content("no mode")
        more = " ▸" if len(self.modes) > 1 else ""
        return Content(f"{self.value.value}{more}")
