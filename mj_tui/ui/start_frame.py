"""The first frame's panes as runs of styled text, built without Textual.

The first frame shows the main screen's layout with page 1 of the local store in the
list and the other panes still empty (see screens/start.py). It is built here, from
the page alone, as lines of runs: the start screen turns them into Content, and
early_frame.py writes them to the terminal before Textual is even imported. One
builder for both, so the frame Textual draws is the frame already on screen.

A run's style is a stack of Textual styles, bottom first, joined by `LAYER`: the pane's
background, the selected row's, the run's own. They are kept apart because a colour
with alpha (the selected row's) is blended over what is under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size

from .task_format import ROW_STYLES, Run, row_runs

if TYPE_CHECKING:
    from ..core.models import Page

# rows around the list at the first frame: header, footer, the list's border, and the prompt
# box (7 rows, 6 on a short screen: its text area is one row shorter there, see app.tcss)
AROUND_LIST = 1 + 1 + 2
PROMPT_ROWS = {False: 7, True: 6}
ACTION_ROWS = 3  # the action bar with nothing in it
CHIP = 11  # the prompt box's mode chip, in cells (app.tcss: #mode)
SHORT_BELOW = 30  # rows: MjApp's vertical breakpoint ("-short" below it)
# the panes' look (app.tcss): round borders in this colour, muted titles, this background
BORDER = "$panel-lighten-2"
# the panes' titles as app.tcss colours them ($text-muted, "auto 60%" in every theme but the
# ANSI one): spelled out, because in a Content style Textual 8.2 drops a variable's alpha
# and draws $text-muted as bright as $text
TITLE = "auto 60%"
PANE = "on $surface"
SELECTED = "on $block-cursor-blurred-background"  # the list's selected row, unfocused
LAYER = "|"

# the prompt box's own words (Composer: a test checks they are the same), so the swap
# does not change them
PROMPT_PLACEHOLDER = "Type a prompt: what to draw… (ctrl+j sends)"
REFS_PLACEHOLDER = "reference images: file paths, space-separated"

#: one terminal row
Line = list[Run]


def is_short(height: int) -> bool:
    return height < SHORT_BELOW


def page_size(height: int, configured: int = 0) -> int:
    """Tasks per page: as many as the list has rows at this terminal height (what the main
    screen's list fits its pages to), or the profile's own number."""
    if configured:
        return configured
    return max(1, height - AROUND_LIST - PROMPT_ROWS[is_short(height)])


def under(runs: Iterable[Run], style: str) -> Line:
    """`runs` with `style` put beneath their own (Content.stylize_before)."""
    return [(text, f"{style}{LAYER}{own}" if own else style) for text, own in runs]


def fit(runs: Line, width: int) -> Line:
    """`runs` cut to `width` cells with an ellipsis, or padded to it with unstyled
    spaces: Content.truncate(width, ellipsis=True, pad=True), run by run."""
    plain = "".join(text for text, _ in runs)
    length = cell_len(plain)
    if length < width:
        return [*runs, (" " * (width - length), "")]
    if length == width:
        return list(runs)
    cut = (set_cell_size(plain, width - 1) + "…") if width else ""
    styles = [style for text, style in runs for _ in text]  # each character's style
    out: Line = []
    for index, char in enumerate(cut):
        style = styles[index] if index < len(styles) else ""
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + char, style)
        else:
            out.append((char, style))
    return out


def box(width: int, height: int, title: str, subtitle: str, lines: list[Line]) -> list[Line]:
    """`height` lines of a `width`-cell pane as app.tcss draws one: a round border with
    the title top left and the subtitle bottom right, `lines` inside (cut to fit)."""
    if height <= 0 or width <= 0:
        return [[] for _ in range(max(0, height))]
    inner = max(0, width - 2)
    if height == 1:
        return [under([("─" * width, BORDER)], PANE)]

    def edge(left: str, right: str, words: str, at_end: bool) -> Line:
        label = f" {words} " if words and len(words) + 3 <= inner else ""
        fill = "─" * max(0, inner - 1 - len(label))
        parts: Line = [(left, BORDER)]
        if at_end:
            parts += [(fill, BORDER), (label, TITLE), ("─" if inner else "", BORDER)]
        else:
            parts += [("─" if inner else "", BORDER), (label, TITLE), (fill, BORDER)]
        parts.append((right, BORDER))
        return under([part for part in parts if part[0]], PANE)

    middle = []
    for index in range(height - 2):
        text = fit(lines[index], inner) if index < len(lines) else fit([], inner)
        middle.append(under([("│", BORDER), *text, ("│", BORDER)], PANE))
    return [edge("╭", "╮", title, False), *middle, edge("╰", "╯", subtitle, True)]


def compact_rows(pane_width: int) -> bool:
    """Whether the task list draws its narrow rows (3-letter tags) in a pane this wide: its
    rows' width, less the border, its right padding and the marker cell, under 50."""
    return 0 < max(0, pane_width - 2 - 1) - 1 < 50


def list_pane_width(screen_width: int) -> int:
    """The task list pane's width: the left of two 1fr columns (the odd cell goes right)."""
    return screen_width // 2


def list_lines(page: Page, now: datetime, width: int, height: int) -> list[Line]:
    """Page 1 as the task list draws it: the marker and the selection on the first row,
    each task in TaskList's row format, the page line in the border."""
    inner = max(0, width - 2 - 1)  # the border, and the list's right padding
    compact = compact_rows(width)
    lines = [_split(row_runs(task, now, compact=compact)) for task in page.tasks]
    # rows of two lines (a failure's reason...) can make the page longer than the list: the
    # list then has a scrollbar, one cell before its right padding, and its rows are cut a cell
    # shorter (the bar itself is left to the main screen: a blank here)
    bar = [(" ", "")] if sum(map(len, lines)) > height - 2 and inner > 1 else []
    rows: list[Line] = []
    for index, row_lines in enumerate(lines):
        for number, line in enumerate(row_lines):
            # the marker cell begins every line of a row (TaskList.render_line)
            row = fit([("▶" if index == 0 and number == 0 else " ", ""), *line], inner - len(bar))
            rows.append([*(under(row, SELECTED) if index == 0 else row), *bar, (" ", "")])
    subtitle = f"page {page.page} of {page.pages} · total {page.total}"
    return box(width, height, "Tasks", subtitle, rows)


def _split(runs: Line) -> list[Line]:
    """The lines of a multi-line row (Content.split("\\n"))."""
    lines: list[Line] = [[]]
    for text, style in runs:
        first, *rest = text.split("\n")
        if first:
            lines[-1].append((first, style))
        for part in rest:
            lines.append([(part, style)] if part else [])
    return lines


def prompt_lines(width: int, height: int, mode: object) -> list[Line]:
    """The prompt box with its placeholders, wrapped as its text area and its reference
    images' input wrap theirs (by words; the input shows its first line), after the mode
    chip (CHIP cells)."""
    inner = max(0, width - 2)
    rows = max(0, height - 3)  # the text area's: the borders and the options row take three
    text = _wrap(PROMPT_PLACEHOLDER, inner)[:rows]
    refs = _wrap(REFS_PLACEHOLDER, inner - CHIP)[:1]
    # (as the chip is first drawn: one mode, no "▸" until the provider's list of modes is in)
    chip = f" {mode}".ljust(CHIP)[:CHIP]
    muted = [*text, *[""] * (rows - len(text)), chip + "".join(refs)]
    return box(width, height, "Prompt", "ctrl+j send", [[(line, TITLE)] if line else [] for line in muted])


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of `width` cells, broken after spaces (a word longer than a line is
    cut); a line's trailing spaces may run past the width, as Textual's wrapping leaves them."""
    if width <= 0:
        return []
    lines = [""]
    for word in re.findall(r"\S+\s*", text):
        while cell_len(word.rstrip()) > width:  # longer than a line: cut
            if lines[-1]:
                lines.append("")
            lines[-1], word = set_cell_size(word, width), word[len(set_cell_size(word, width).rstrip()) :]
            lines.append("")
        if lines[-1] and cell_len(lines[-1]) + cell_len(word.rstrip()) > width:
            lines.append("")
        lines[-1] += word
    return [line for line in lines if line]


def panes(width: int, height: int, page: Page, now: datetime, mode: object) -> list[Line]:
    """The four panes, `width` x `height` cells: list and prompt box on the left, the
    preview and the action bar on the right. `height` is the terminal's less the header
    and the footer."""
    left_width = list_pane_width(width)
    right_width = width - left_width
    short = is_short(height + 2)
    prompt_rows = min(height, PROMPT_ROWS[short])
    action_rows = min(height, ACTION_ROWS)
    left = list_lines(page, now, left_width, height - prompt_rows) + prompt_lines(left_width, prompt_rows, mode)
    right = box(right_width, height - action_rows, "Preview", "", [])
    right += box(right_width, action_rows, "Actions", "", [])
    return [a + b for a, b in zip(left, right, strict=True)]


def styles() -> frozenset[str]:
    """Every style a run of the first frame can have (its colours are kept for these)."""
    pane = {PANE, f"{PANE}{LAYER}{BORDER}", f"{PANE}{LAYER}{TITLE}"}
    rows = {f"{PANE}{LAYER}{style}" if style else PANE for style in ROW_STYLES}
    selected = {
        f"{PANE}{LAYER}{SELECTED}{LAYER}{style}" if style else f"{PANE}{LAYER}{SELECTED}" for style in ROW_STYLES
    }
    return frozenset(pane | rows | selected)
