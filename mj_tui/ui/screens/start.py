"""The first frame: the real page of tasks, drawn before the rest of the UI exists.

Importing and building the main screen (its panes, flows, the prompt box's editor and
lint rules) takes as long again as Python and Textual themselves: ~250 ms on a small
VM. This screen needs only what the first page needs (the config, the local store,
the list and the header), so the person sees their tasks at once, in the layout they
are about to use: the header, the list with its page line, and the outlines of the
prompt box, the preview and the action bar where those will be.

The panes are drawn as one block of text, borders and all, in the main screen's
geometry (both columns half the width, the prompt box's rows at the bottom left, the
action bar's at the bottom right) and colours, the list in its own row format: laid
out as twelve widgets (containers, and a widget per pane) the same frame took ~15 ms
more to compose, style, lay out and draw.

The app puts the main screen over it right after (see MjApp.start_main); keys typed
meanwhile are kept and replayed into it in order (see MjApp.on_event), so none is
lost and none acts on this screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from ...core.history import History, store_page
from ..task_format import task_row
from ..widgets.footer import KeyFooter
from ..widgets.header import AppHeader

if TYPE_CHECKING:
    from ...launch import Launch

# rows around the list at the first frame: header, footer, the list's border, and the prompt
# box (7 rows, 6 on a short screen: its text area is one row shorter there, see app.tcss)
AROUND_LIST = 1 + 1 + 2
PROMPT_ROWS = {False: 7, True: 6}
ACTION_ROWS = 3  # the action bar with nothing in it
# the panes' look (app.tcss): round borders in this colour, muted titles, this background
BORDER = "$panel-lighten-2"
TITLE = "$text-muted"
PANE = "on $surface"
SELECTED = "on $block-cursor-blurred-background"  # the list's selected row, unfocused

# the prompt box's own words (Composer: a test checks they are the same), so the swap
# does not change them
PROMPT_PLACEHOLDER = "Type a prompt: what to draw… (ctrl+j sends)"
REFS_PLACEHOLDER = "reference images: file paths, space-separated"


class StartScreen(Screen):
    """The main screen's layout with its list filled in and the other panes still empty."""

    DEFAULT_CSS = """
    StartScreen #start-body {
        width: 1fr;
        height: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self, launch: Launch, history: History, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.launch = launch
        self.history = history  # handed to the main screen, open

    @property
    def page_size(self) -> int:
        """Tasks per page: as many as the list has rows (what the main screen's list fits
        its pages to, so it does not read page 1 again), or the profile's own number."""
        profile = self.launch.profile
        if profile.page_size:
            return profile.page_size
        rows = self.app.size.height - AROUND_LIST - PROMPT_ROWS[self.has_class("-short")]
        return max(1, rows)

    def compose(self) -> ComposeResult:
        yield AppHeader(id="header")
        width, height = self.app.size
        yield Static(self._panes(width, max(0, height - 2)), id="start-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        header = self.query_one(AppHeader)
        profile = self.launch.profile
        header.profile = profile.name
        header.provider = profile.provider.label
        header.demo = self.launch.demo
        header.mode = str(profile.default_mode or "")
        header.queue_limit = profile.queue_limit

    def _panes(self, width: int, height: int) -> Content:
        """The four panes, `width` x `height` cells: list and prompt box on the left, the
        preview and the action bar on the right."""
        left_width = width // 2  # Textual's split of two 1fr columns: the odd cell goes right
        right_width = width - left_width
        prompt_rows = min(height, PROMPT_ROWS[self.has_class("-short")])
        action_rows = min(height, ACTION_ROWS)
        left = self._list(left_width, height - prompt_rows) + self._prompt(left_width, prompt_rows)
        right = box(right_width, height - action_rows, "Preview", "", [])
        right += box(right_width, action_rows, "Actions", "", [])
        return Content("\n").join(Content.assemble(a, b) for a, b in zip(left, right, strict=True))

    def _list(self, width: int, height: int) -> list[Content]:
        """Page 1 as the task list draws it: the marker and the selection on the first row,
        each task in TaskList's row format, the page line in the border."""
        profile = self.launch.profile
        page = store_page(self.history, profile, 1, self.page_size)
        now = self.app.now()  # type: ignore[attr-defined]
        inner = max(0, width - 2 - 1)  # the border, and the list's right padding
        compact = 0 < inner - 1 < 50  # TaskList's narrow rows (its width without the marker)
        rows: list[Content] = []
        for index, task in enumerate(page.tasks):
            marker = "▶" if index == 0 else " "
            for line in Content.assemble(marker, task_row(task, now, compact=compact)).split("\n"):
                row = line.truncate(inner, ellipsis=True, pad=True)
                rows.append((row.stylize_before(SELECTED) if index == 0 else row).pad_right(1))
        subtitle = f"page {page.page} of {page.pages} · total {page.total}"
        return box(width, height, "Tasks", subtitle, rows)

    def _prompt(self, width: int, height: int) -> list[Content]:
        mode = self.launch.profile.default_mode
        muted = [PROMPT_PLACEHOLDER, *[""] * (height - 4), f" {mode} ▸    {REFS_PLACEHOLDER}"]
        return box(width, height, "Prompt", "ctrl+j send", [Content.styled(line, TITLE) for line in muted])


def box(width: int, height: int, title: str, subtitle: str, lines: list[Content]) -> list[Content]:
    """`height` lines of a `width`-cell pane as app.tcss draws one: a round border with
    the title top left and the subtitle bottom right, `lines` inside (cut to fit)."""
    if height <= 0 or width <= 0:
        return [Content("")] * max(0, height)
    inner = max(0, width - 2)
    if height == 1:
        return [Content.styled("─" * width, BORDER).stylize_before(PANE)]

    def edge(left: str, right: str, words: str, at_end: bool) -> Content:
        label = f" {words} " if words and len(words) + 3 <= inner else ""
        fill = "─" * max(0, inner - 1 - len(label))
        parts: list[tuple[str, str]] = [(left, BORDER)]
        if at_end:
            parts += [(fill, BORDER), (label, TITLE), ("─" if inner else "", BORDER)]
        else:
            parts += [("─" if inner else "", BORDER), (label, TITLE), (fill, BORDER)]
        parts.append((right, BORDER))
        return Content.assemble(*parts).stylize_before(PANE)

    middle = []
    for index in range(height - 2):
        text = lines[index] if index < len(lines) else Content("")
        text = text.truncate(inner, ellipsis=True, pad=True)
        middle.append(Content.assemble(("│", BORDER), text, ("│", BORDER)).stylize_before(PANE))
    return [edge("╭", "╮", title, False), *middle, edge("╰", "╯", subtitle, True)]
