"""The prompt composer: a multi-line prompt, the speed mode and reference images."""

from __future__ import annotations

import shlex
from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Select, Static, TextArea

from ..messages import PromptSubmitted
from ..prompt_history import PromptHistory
from ...core.models import Mode


def split_paths(text: str) -> list[str]:
    """File paths separated by spaces; quotes keep a path with spaces whole."""
    text = text.strip()
    if not text:
        return []
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: fall back to plain spaces
        return text.split()


class Composer(Vertical):
    BINDINGS = [
        # priority: TextArea would otherwise move the cursor / take the key
        Binding("ctrl+up,alt+up", "history(-1)", "Older prompt", id="history-prev", priority=True, show=False),
        Binding("ctrl+down,alt+down", "history(1)", "Newer prompt", id="history-next", priority=True, show=False),
        Binding("escape", "leave", "To tasks", id="leave-composer", show=False),
    ]

    def __init__(
        self,
        modes: tuple[Mode, ...],
        mode: Mode | None,
        history: PromptHistory,
        price: Callable[[str, Mode | None], int | None],
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.modes = modes
        self.history = history
        self.price = price
        self._initial_mode = mode if mode in modes else (modes[0] if modes else None)
        self.border_title = "Prompt"
        self.border_subtitle = "ctrl+j send"

    def compose(self) -> ComposeResult:
        yield TextArea(
            id="prompt",
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Describe an image… (ctrl+j sends)",
        )
        with Horizontal(id="composer-options"):
            yield Select(
                [(m.value, m) for m in self.modes],
                value=self._initial_mode if self._initial_mode else Select.NULL,
                allow_blank=self._initial_mode is None,
                compact=True,
                id="mode",
            )
            yield Input(placeholder="reference images: file paths", compact=True, id="refs")
            yield Static("", id="price")

    def on_mount(self) -> None:
        self._show_price()

    # -- values -----------------------------------------------------------------------
    @property
    def text_area(self) -> TextArea:
        return self.query_one("#prompt", TextArea)

    @property
    def mode(self) -> Mode | None:
        value = self.query_one("#mode", Select).value
        return value if isinstance(value, Mode) else None

    def set_modes(self, modes: tuple[Mode, ...]) -> None:
        """The provider's speed modes, once known; keeps the current choice if offered."""
        current = self.mode
        self.modes = modes
        select = self.query_one("#mode", Select)
        with select.prevent(Select.Changed):
            select.set_options([(m.value, m) for m in modes])
            if current in modes:
                select.value = current
            elif modes:
                select.value = modes[0]

    def cycle_mode(self) -> Mode | None:
        if not self.modes:
            return None
        select = self.query_one("#mode", Select)
        current = self.mode
        index = self.modes.index(current) + 1 if current in self.modes else 0
        select.value = self.modes[index % len(self.modes)]
        return self.mode

    def submit(self) -> bool:
        """Send what is typed (the screen decides what happens); False if empty."""
        prompt = self.text_area.text.strip()
        if not prompt:
            return False
        paths = split_paths(self.query_one("#refs", Input).value)
        self.post_message(PromptSubmitted(prompt, self.mode, paths))
        return True

    def sent(self, prompt: str) -> None:
        """The prompt was accepted: remember it and clear the box (if unchanged)."""
        self.history.add(prompt)
        if self.text_area.text.strip() == prompt:
            self.text_area.clear()
            self.query_one("#refs", Input).value = ""

    # -- actions ----------------------------------------------------------------------
    def action_history(self, step: int) -> None:
        area = self.text_area
        recalled = self.history.previous(area.text) if step < 0 else self.history.next()
        if recalled is None:
            self.app.bell()
            return
        area.text = recalled
        area.move_cursor(area.document.end)

    def action_leave(self) -> None:
        self.screen.action_focus_pane("tasks")

    @on(Select.Changed, "#mode")
    def _mode_changed(self) -> None:
        self._show_price()

    def _show_price(self) -> None:
        cost = self.price("IMAGINE", self.mode)
        self.query_one("#price", Static).update(f"≈{cost:,} tok" if cost else "")
