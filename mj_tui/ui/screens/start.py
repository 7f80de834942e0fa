"""The first frame: the real page of tasks, drawn before the rest of the UI exists.

Importing and building the main screen (its panes, flows, the prompt box's editor and
lint rules) takes as long again as Python and Textual themselves: ~250 ms on a small
VM. This screen needs only what the first page needs (the config, the local store,
the list and the header), so the person sees their tasks at once, in the layout they
are about to use: the header, the list with its page line, and the outlines of the
prompt box, the preview and the action bar where those will be. The list is drawn as
text in the task list's own row format (an OptionList costs ~20 ms more to build and
draw the first time). The app swaps the
main screen in right after (see MjApp.start_main); keys typed meanwhile are kept and
replayed into it in order (see MjApp.on_event), so none is lost and none acts on
this screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
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

# the prompt box's own words (Composer), so the swap does not change them
PROMPT_PLACEHOLDER = "Type a prompt: what to draw… (ctrl+j sends)"
REFS_PLACEHOLDER = "reference images: file paths, space-separated"


class StartScreen(Screen):
    """The main screen's layout with its list filled in and the other panes still empty."""

    DEFAULT_CSS = """
    StartScreen #start-tasks {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1 0 0;
    }
    StartScreen #start-tasks Static {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StartScreen #start-tasks #start-selected {
        background: $block-cursor-blurred-background;
    }
    StartScreen .start-pane {
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        background: $surface;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StartScreen #start-composer { height: 7; }  /* PROMPT_ROWS */
    StartScreen.-short #start-composer { height: 6; }
    StartScreen #start-preview { height: 1fr; }
    StartScreen #start-actions { height: 3; padding: 0 1; }
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
        short = self.has_class("-short")
        yield AppHeader(id="header")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield from self._tasks()
                mode = self.launch.profile.default_mode
                lines = [PROMPT_PLACEHOLDER, *[""] * (2 if short else 3), f" {mode} ▸    {REFS_PLACEHOLDER}"]
                composer = Static("\n".join(lines), id="start-composer", classes="start-pane", markup=False)
                composer.border_title = "Prompt"
                composer.border_subtitle = "ctrl+j send"
                yield composer
            with Vertical(id="right"):
                preview = Static("", id="start-preview", classes="start-pane")
                preview.border_title = "Preview"
                yield preview
                actions = Static("", id="start-actions", classes="start-pane")
                actions.border_title = "Actions"
                yield actions
        yield KeyFooter()

    def _tasks(self) -> ComposeResult:
        """The task list's page 1 as the list draws it: a marker on the first row (the one
        selected), each task in TaskList's row format, the page line below."""
        profile = self.launch.profile
        page = store_page(self.history, profile, 1, self.page_size)
        now = self.app.now()  # type: ignore[attr-defined]
        # TaskList's narrow rows: under 50 cells inside its border and right padding
        compact = self.app.size.width // 2 - 3 < 50
        rows = [task_row(task, now, compact=compact) for task in page.tasks]
        with Vertical(id="start-tasks") as box:
            box.border_title = "Tasks"
            box.border_subtitle = f"page {page.page} of {page.pages} · total {page.total}"
            if rows:
                yield Static(Content.assemble("▶", rows[0]), id="start-selected")
                rest = [Content.assemble(" ", row) for row in rows[1:]]
                if rest:
                    yield Static(Content("\n").join(rest))

    def on_mount(self) -> None:
        header = self.query_one(AppHeader)
        profile = self.launch.profile
        header.profile = profile.name
        header.provider = profile.provider.label
        header.demo = self.launch.demo
        header.mode = str(profile.default_mode or "")
        header.queue_limit = profile.queue_limit
