"""The floor for startup: a bare Textual app that imports textual-image and draws one line."""

import textual_image.renderable
import textual_image.widget  # noqa: F401
from textual.app import App, ComposeResult
from textual.widgets import Static


class Floor(App):
    def compose(self) -> ComposeResult:
        yield Static("floor ready")


if __name__ == "__main__":
    Floor().run()
