"""Yes or no, for a step that costs money (several paid jobs at once).

An optional second yes (``alt``, key ``a``) covers "send the ones that fit" vs
"send them all"; it dismisses with the string "alt".
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Label

from ..text import literal
from .dialog import Dialog


class ConfirmDialog(Dialog[bool | str]):
    """y sends, n or escape cancels; enter presses the focused button (Cancel at first)."""

    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"yes": "answer(True)", "alt": "alt", "no": "answer(False)"}

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes", tooltip="Yes: go ahead"),
        Binding("a", "alt", "Other", id="confirm-alt", show=False, tooltip="The other way to go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no", tooltip="No: cancel"),
    ]

    def __init__(self, title: str, text: str, yes: str = "Send", no: str = "Cancel", alt: str | None = None) -> None:
        super().__init__(title)
        self.text = text
        self.yes = yes
        self.no = no
        self.alt = alt

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog"):
            yield self.title_label(self.dialog_title)
            yield Label(literal(self.text), classes="dialog-text", id="confirm-text")
            yield self.button_row(
                Button(f"{self.yes}  y", variant="warning", id="yes", compact=True),
                *([Button(f"{self.alt}  a", id="alt", compact=True)] if self.alt else []),
                Button(f"{self.no}  n/esc", id="no", compact=True),
            )

    def on_mount(self) -> None:
        # a paid step is never one stray enter away
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_alt(self) -> None:
        if self.alt:
            self.dismiss("alt")
