"""What every dialog shares: its stylesheet, a title, the button row, and buttons that run
the action their id names (a click does what the key does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import getters
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from ..text import literal

if TYPE_CHECKING:
    from ..app import MjApp

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """A dialog over the main screen.

    `BUTTON_ACTIONS` maps a button's id to the action it runs, so a click and its key
    share one path; by default "send" runs ``action_send`` and "cancel" ``action_cancel``.
    """

    CSS_PATH = "../dialogs.tcss"  # read when the first dialog opens, not at start-up
    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"send": "send", "cancel": "cancel"}

    if TYPE_CHECKING:  # the app's own attributes (blink_cursor...) for the type checker
        app = getters.app(MjApp)

    def __init__(self, title: str = "") -> None:
        super().__init__()
        self.dialog_title = title

    @staticmethod
    def title_label(title: str | Content) -> Label:
        return Label(literal(title, "bold") if isinstance(title, str) else title, classes="dialog-title")

    @staticmethod
    def button_row(*buttons: Button) -> Horizontal:
        return Horizontal(*buttons, classes="dialog-buttons")

    @staticmethod
    def send_cancel(send: str = "Send  ctrl+j", cancel: str = "Cancel  esc") -> Horizontal:
        """The row most dialogs end with: send (primary) and cancel."""
        return Dialog.button_row(
            Button(send, variant="primary", id="send", compact=True),
            Button(cancel, id="cancel", compact=True),
        )

    def on_mount(self) -> None:
        # a toast from before would sit on the dialog's text (a dialog's own news comes in it)
        self.app.clear_notifications()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = self.BUTTON_ACTIONS.get(event.button.id or "")
        if action is not None:
            await self.run_action(action)

    def action_cancel(self) -> None:
        self.dismiss(None)
