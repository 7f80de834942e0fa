"""A small dialog for the second step some buttons need (Remix, Custom Zoom, a
describe/shorten pick).  A validator can keep it open with the reason shown
(Custom Zoom's --zoom 1-2, prompt errors) so nothing invalid is paid for."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static, TextArea

from ..look import MUTED
from ..text import literal
from .dialog import Dialog


class PromptDialog(Dialog[str | None]):
    """Edit a prompt and send it (ctrl+j / ctrl+s) or cancel (escape)."""

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
        super().__init__(title)
        self.explanation = explanation
        self.prompt = prompt
        self.validate = validate
        self.note = note  # e.g. the price of what Send starts

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield self.title_label(self.dialog_title)
            yield Label(literal(self.explanation, MUTED), classes="dialog-text")
            yield TextArea(self.prompt, id="dialog-prompt", soft_wrap=True, tab_behavior="focus")
            yield Static(literal(self.note, MUTED), id="dialog-error", markup=False)
            yield self.send_cancel()

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.cursor_blink = self.app.blink_cursor
        area.focus()
        area.move_cursor(area.document.end)

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
