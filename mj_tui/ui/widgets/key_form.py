"""A masked key input with Save / session-only buttons and keyring help."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import getters, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, Static

from ...core import credentials
from ...core.credentials import NO_KEYRING_HELP, Secret
from ...core.errors import NoKeyring
from ..worker_errors import ReportWorkerErrors

if TYPE_CHECKING:
    from ..app import MjApp


class KeyForm(ReportWorkerErrors, Vertical):
    if TYPE_CHECKING:  # the app's own attributes for the type checker
        app = getters.app(MjApp)

    """A masked key input with Save / session-only buttons and keyring help.

    Shared by the welcome screen and the key screen; the owner decides what a
    chosen key means (a ``Chosen`` message); the form does the keyring work.
    """

    def __init__(self, profile: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.keyring_ok = True

    def compose(self) -> ComposeResult:
        yield Input(placeholder="paste your API key", password=True, compact=True, id="key-input")
        yield Static(id="keyring-help", markup=False)
        with Horizontal(classes="dialog-buttons"):
            yield Button("Save key", variant="primary", id="save-key", compact=True)
            yield Button("Use for this session only", id="session-key", compact=True)

    def on_mount(self) -> None:
        self.query_one("#keyring-help").display = False
        self.query_one("#key-input", Input).cursor_blink = self.app.blink_cursor
        self.check_keyring()

    @work(thread=True, exit_on_error=False)
    def check_keyring(self) -> None:
        # probing the backend can touch D-Bus: keep it off the event loop
        if credentials.keyring_name() is None:
            self.app.call_from_thread(self.no_keyring)

    def no_keyring(self) -> None:
        help_text = self.query_one("#keyring-help", Static)
        help_text.update(Content.assemble(("No keyring. ", "bold $warning"), NO_KEYRING_HELP))
        help_text.display = True
        self.query_one("#save-key", Button).display = False
        self.keyring_ok = False

    @property
    def value(self) -> str:
        return self.query_one("#key-input", Input).value.strip()

    @on(Input.Submitted, "#key-input")
    @on(Button.Pressed, "#save-key")
    def _save(self, event) -> None:
        event.stop()
        if not self.keyring_ok:
            self._session()
            return
        if not self.value:
            self.notify("Paste a key first.", severity="warning")
            return
        self.save(self.value)

    @on(Button.Pressed, "#session-key")
    def _session_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._session()

    def _session(self) -> None:
        if not self.value:
            self.notify("Paste a key first.", severity="warning")
            return
        self.post_message(KeyForm.Chosen(Secret(self.value), saved=False))

    @work(thread=True, exit_on_error=False, group="keyring")
    def save(self, value: str) -> None:
        try:
            credentials.set_key(self.profile, value)
        except NoKeyring:
            self.app.call_from_thread(self.no_keyring)
            return
        self.post_message(KeyForm.Chosen(Secret(value), saved=True))

    class Chosen(Message):
        """A key to use; `saved` says whether it is in the keyring now."""

        def __init__(self, key: Secret, *, saved: bool) -> None:
            super().__init__()
            self.key = key
            self.saved = saved
