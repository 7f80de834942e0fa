"""First run: no key yet.  Enter one (kept in the OS keyring) or open the demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, Static

from ...core.credentials import NO_KEYRING_HELP
from ..text import literal
from ..widgets.key_form import KeyForm
from ..worker_errors import ReportWorkerErrors

if TYPE_CHECKING:
    from ..app import MjApp


class WelcomeScreen(ReportWorkerErrors, Screen[None]):
    if TYPE_CHECKING:  # the app's own attributes for the type checker
        app = getters.app(MjApp)

    CSS_PATH = "../dialogs.tcss"  # read when the first dialog opens, not at start-up
    BINDINGS = [
        Binding("f2", "demo", "Try the demo", id="welcome-demo", priority=True),
        Binding("ctrl+q", "app.quit", "Quit", id="welcome-quit", priority=True),
    ]

    def __init__(self, launch) -> None:
        super().__init__()
        self.launch = launch

    def compose(self) -> ComposeResult:
        profile = self.launch.profile
        provider = "OhMyGPT" if profile.provider.value == "ohmygpt" else "a midjourney-proxy API"
        with Center(), VerticalScroll(id="welcome", classes="dialog"):
            yield Label(Content.styled("Welcome to mj-tui", "bold $accent"), classes="dialog-title")
            yield Static(
                Content.assemble(
                    "mj-tui drives Midjourney through ",
                    literal(provider),
                    " (profile ",
                    literal(profile.name, "bold"),
                    "). Paste your API key below; it is kept in your OS ",
                    "keyring, never in a file. Or press f2 for the built-in demo: no key, no network.",
                ),
                classes="dialog-text",
            )
            problem = self.launch.key.problem
            if problem and problem != NO_KEYRING_HELP:  # the form explains a missing keyring itself
                yield Static(literal(problem, "$warning"), classes="dialog-text")
            yield KeyForm(profile.name, id="key-form")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Try the demo  f2", id="demo", compact=True)
                yield Button("Quit  ctrl+q", id="quit", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#key-input").focus()

    @on(KeyForm.Chosen)
    def _chosen(self, event: KeyForm.Chosen) -> None:
        if event.saved:
            self.notify("Key saved in the keyring.", timeout=3)
        self.app.use_key(event.key)

    @on(Button.Pressed, "#demo")
    def _demo_button(self) -> None:
        self.action_demo()

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit(0)

    def action_demo(self) -> None:
        self.notify("Starting the demo…", timeout=2)
        self.open_demo()

    @work(thread=True, exclusive=True, exit_on_error=False, group="demo")
    def open_demo(self) -> None:
        from ...launch import build_launch

        # builds the in-process emulator (seeded history): a moment of CPU work
        demo = build_launch(demo=True, provider=self.launch.profile.provider.value, graphics=self.launch.graphics)
        self.app.call_from_thread(self.app.use_demo, demo)
