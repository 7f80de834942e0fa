"""A small dialog for the second step some buttons need (Remix, Custom Zoom, a
describe/shorten pick).  A validator can keep it open with the reason shown
(Custom Zoom's --zoom 1-2, prompt errors) so nothing invalid is paid for."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from ..text import literal


class PromptDialog(ModalScreen[str | None]):
    """Edit a prompt and send it (ctrl+j / ctrl+s) or cancel (escape)."""

    CSS_PATH = "../dialogs.tcss"  # read when the first dialog opens, not at start-up

    BINDINGS = [
        Binding("ctrl+j,ctrl+s", "send", "Send", id="dialog-send", priority=True, tooltip="Send the dialog"),
        Binding("escape", "cancel", "Cancel", id="dialog-cancel", tooltip="Close the dialog without sending"),
    ]

    def __init__(
        self,
        title: str,
        explanation: str,
        prompt: str,
        *,
        validate: Callable[[str], str | None] | None = None,
        note: str = "",
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.explanation = explanation
        self.prompt = prompt
        self.validate = validate
        self.note = note  # e.g. the price of what Send starts

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(literal(self.dialog_title, "bold"), classes="dialog-title")
            yield Label(literal(self.explanation, "$text-muted"), classes="dialog-text")
            yield TextArea(self.prompt, id="dialog-prompt", soft_wrap=True, tab_behavior="focus")
            yield Static(literal(self.note, "$text-muted"), id="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send  ctrl+j", variant="primary", id="send", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.cursor_blink = self.app.blink_cursor
        area.focus()
        area.move_cursor(area.document.end)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send() if event.button.id == "send" else self.action_cancel()

    def action_send(self) -> None:
        # after the keys already typed into the box (ctrl+j jumps the queue)
        self.query_one(TextArea).call_later(self._send_now)

    def _send_now(self) -> None:
        text = self.query_one(TextArea).text.strip()
        problem = "Type a prompt first." if not text else (self.validate(text) if self.validate else None)
        if problem:
            self.app.bell()
            self.query_one("#dialog-error", Static).update(literal(problem, "$error"))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
