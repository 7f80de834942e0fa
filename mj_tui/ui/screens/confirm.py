"""Yes or no, for a step that costs money (several paid jobs at once).

An optional second yes (``alt``, key ``a``) covers "send the ones that fit" vs
"send them all"; it dismisses with the string "alt".
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from ..text import literal


class ConfirmDialog(ModalScreen[bool | str]):
    """y sends, n or escape cancels; enter presses the focused button (Cancel at first)."""

    CSS_PATH = "../dialogs.tcss"  # read when the first dialog opens, not at start-up

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes", tooltip="Yes: go ahead"),
        Binding("a", "alt", "Other", id="confirm-alt", show=False, tooltip="The other way to go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no", tooltip="No: cancel"),
    ]

    def __init__(self, title: str, text: str, yes: str = "Send", no: str = "Cancel", alt: str | None = None) -> None:
        super().__init__()
        self.dialog_title = title
        self.text = text
        self.yes = yes
        self.no = no
        self.alt = alt

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog"):
            yield Label(literal(self.dialog_title, "bold"), classes="dialog-title")
            yield Label(literal(self.text), classes="dialog-text", id="confirm-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes}  y", variant="warning", id="yes", compact=True)
                if self.alt:
                    yield Button(f"{self.alt}  a", id="alt", compact=True)
                yield Button(f"{self.no}  n/esc", id="no", compact=True)

    def on_mount(self) -> None:
        # a paid step is never one stray enter away
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss("alt" if event.button.id == "alt" else event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_alt(self) -> None:
        if self.alt:
            self.dismiss("alt")
