"""A terminal whose locale is not UTF-8 gets ASCII look-alikes, each as wide as the original."""

from __future__ import annotations

from rich.cells import cell_len

from mj_tui.ui.terminal_driver import to_ascii


def test_borders_bars_and_icons_become_ascii_of_the_same_width():
    drawn = "╭─ Tasks ─╮│▶✔ 0:05 ★ fox…│╰──╯ ████░░ 40% · 生成 🦊 e\u0301"
    plain = to_ascii(drawn)
    assert plain.isascii()
    assert plain.startswith("+- Tasks -+|>v 0:05 * fox.|+--+ ####.. 40% . ")
    assert cell_len(plain) == cell_len(drawn)  # nothing shifts on screen
    assert to_ascii("\x1b[1;31mplain\x1b[0m") == "\x1b[1;31mplain\x1b[0m"  # escape sequences untouched


def test_every_status_icon_and_the_mode_chip_have_a_look_alike():
    """Not "?": each icon the list, the chips and the bars draw reads as something in ASCII."""
    from mj_tui.ui.task_format import STATUS_LOOK

    drawn = "".join(icon for icon, _, _ in STATUS_LOOK.values() if icon != "?") + "▸◂━≈–—“”⚠"
    plain = to_ascii(drawn)
    assert "?" not in plain and plain.isascii() and cell_len(plain) == cell_len(drawn), plain
