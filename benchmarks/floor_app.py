"""The floor for startup: a bare Textual app that draws one line (no textual-image)."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class Floor(App):
    def compose(self) -> ComposeResult:
        yield Static("floor ready")


if __name__ == "__main__":
    Floor().run()
