"""Change or delete the stored API key (f2 on the main screen)."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Label, Static

from ...core import credentials
from ...core.credentials import ENV_VAR, KeySource
from ..look import MUTED
from ..text import literal
from ..widgets.key_form import KeyForm
from ..worker_errors import ReportWorkerErrors
from .dialog import Dialog


class KeyScreen(ReportWorkerErrors, Dialog["KeyForm.Chosen | None"]):
    """Dismisses with the chosen key (the app reconnects with it), or None."""

    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"close": "cancel", "delete-key": "delete_key"}

    BINDINGS = [Binding("escape", "dismiss", "Close", id="key-close")]

    def __init__(self, launch) -> None:
        super().__init__()
        self.launch = launch

    def compose(self) -> ComposeResult:
        profile = self.launch.profile.name
        with Vertical(id="key-dialog", classes="dialog"):
            yield Label(
                Content.assemble(("API key · profile ", "bold"), literal(profile, "bold")), classes="dialog-title"
            )
            yield Static(self._status(), classes="dialog-text", id="key-status")
            if not self.launch.demo:
                yield KeyForm(profile, id="key-form")
            with Horizontal(classes="dialog-buttons"):
                if not self.launch.demo:
                    yield Button("Delete stored key", variant="error", id="delete-key", compact=True)
                yield Button("Close  esc", id="close", compact=True)

    def _status(self) -> Content:
        key, source = self.launch.key.key, self.launch.key.source
        if self.launch.demo:
            return Content.styled(
                "The demo runs on the built-in emulator and needs no key. Start mj-tui without --demo to use yours.",
                MUTED,
            )
        if key is None:
            return Content.styled("No key in use.", "$warning")
        where = {
            KeySource.ENV: f"from the environment ({ENV_VAR}); it overrides the keyring",
            KeySource.KEYRING: "from the OS keyring",
        }.get(source, "entered for this session only")
        return Content.assemble("In use: ", (key.hint, "bold"), f" {where}.")

    def on_mount(self) -> None:
        if not self.launch.demo:
            self.query_one("#key-input").focus()

    @on(KeyForm.Chosen)
    def _chosen(self, event: KeyForm.Chosen) -> None:
        self.dismiss(event)

    def action_delete_key(self) -> None:
        self.delete()

    @work(thread=True, exclusive=True, exit_on_error=False, group="keyring")
    def delete(self) -> None:
        had = credentials.delete_key(self.launch.profile.name)
        message = (
            "Deleted the stored key. This session keeps its key until you quit."
            if had
            else "There was no stored key for this profile."
        )
        self.app.call_from_thread(self.notify, message, timeout=4)
