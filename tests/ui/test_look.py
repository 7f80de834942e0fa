"""Muted words are dimmer than the words they sit behind (see mj_tui/ui/look.py)."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console
from textual.app import App, ComposeResult
from textual.content import Content
from textual.visual import Visual
from textual.widgets import Static

from mj_tui.ui.look import MUTED

PACKAGE = Path(__file__).resolve().parents[2] / "mj_tui"


class OnePane(App):
    CSS = "Static { background: $surface; color: $foreground; }"

    def compose(self) -> ComposeResult:
        yield Static("x")


def brightness(app: App, style: str) -> int:
    """The red channel of the text colour a one-letter Content in `style` is drawn in."""
    pane = app.query_one(Static)
    [strip] = Visual.to_strips(pane, Content.styled("X", style), 1, 1, pane.visual_style)
    drawn = strip.render(Console(color_system="truecolor", force_terminal=True))
    found = re.search(r"38;2;(\d+);", drawn)
    assert found, drawn
    return int(found.group(1))


async def test_muted_words_are_dimmer_in_every_dark_and_light_theme():
    app = OnePane()
    async with app.run_test() as pilot:
        for theme in ("textual-dark", "nord", "gruvbox", "textual-light"):
            app.theme = theme
            await pilot.pause()
            plain, muted = brightness(app, "$foreground"), brightness(app, MUTED)
            background = int(app.theme_variables["surface"][1:3], 16)
            assert abs(muted - background) < abs(plain - background), theme  # nearer the background


def test_no_content_style_says_text_muted():
    """$text-muted in a Python style string is drawn as bright as $text (Textual 8.2)."""
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"[\"'][^\"']*\$text-muted", line.split("#")[0]) and "color: $text-muted" not in line
    ]
    assert offenders == []
