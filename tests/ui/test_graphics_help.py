"""Help says what the terminal answered and which renderer draws the pictures."""

from __future__ import annotations

from support.keys import fresh_key
from textual.widgets import Static
from ui_helpers import main_screen, make_app, make_launch, wait_for

from mj_tui.core import terminal_caps as tc
from mj_tui.ui.graphics import graphics_for


async def test_help_lists_the_detection(emulator, tmp_path):
    caps = tc.caps_from(tc.parse_answers("\x1bP>|XTerm(379)\x1b\\\x1b[6;17;9t\x1b[?63;1;2;4;22c"), {})
    choice = tc.choose(caps)
    graphics = graphics_for(choice, tc.Detection(caps, choice, tc.describe(caps, choice)))
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        await main_screen(pilot, app)
        await pilot.press("f1")
        sections = await wait_for(pilot, lambda: app.screen.query(".help-section"), what="help")
        text = "\n".join(str(s.render()) for s in sections if isinstance(s, Static))
        assert "XTerm 379" in text and "Sixel yes" in text and "9x17 px" in text
        assert "sixel" in text and "--graphics" in text
