"""The first frame Textual draws: the real page of tasks, before the rest of the UI exists.

Importing and building the main screen (its panes, flows, the prompt box's editor and
lint rules) takes as long again as Python and Textual themselves: ~250 ms on a small
VM. This screen needs only what the first page needs (the config, the local store,
the list and the header), so the person sees their tasks at once, in the layout they
are about to use: the header, the list with its page line, and the outlines of the
prompt box, the preview and the action bar where those will be.

The panes are drawn as one block of text, borders and all, in the main screen's
geometry and colours, from the lines start_frame.py builds: laid out as twelve widgets
(containers, and a widget per pane) the same frame took ~15 ms more to compose, style,
lay out and draw. The same lines were usually on screen already: early_frame.py writes
them before Textual is imported, in the colours this screen keeps for it
(`keep_for_next_start`), and this screen then draws the same cells over them.

The app puts the main screen over it right after (see MjApp.start_main); keys typed
meanwhile are kept and replayed into it in order (see MjApp.on_event), so none is
lost and none acts on this screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from textual.app import ComposeResult
from textual.content import Content, Span
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Static

from ...core.history import History, store_page
from ...core.models import Page
from .. import start_frame
from ..start_frame import LAYER, PROMPT_PLACEHOLDER, REFS_PLACEHOLDER, Line
from ..widgets.footer import KeyFooter
from ..widgets.header import AppHeader

if TYPE_CHECKING:
    from ...launch import Launch
    from .. import early_frame

__all__ = ["PROMPT_PLACEHOLDER", "REFS_PLACEHOLDER", "StartScreen", "to_content"]


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

    def __init__(self, launch: Launch, history: History, page: Page | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.launch = launch
        self.history = history  # handed to the main screen, open
        self._page = page  # page 1 as already read (for the frame drawn before Textual)

    @property
    def page_size(self) -> int:
        """Tasks per page: as many as the list has rows (what the main screen's list fits
        its pages to, so it does not read page 1 again), or the profile's own number."""
        return start_frame.page_size(self.app.size.height, self.launch.profile.page_size)

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

    def keep_for_next_start(self) -> None:
        """Keep this frame's colours, header and footer for the next start's early frame
        (see early_frame.py). The file is written in a thread, and only when changed."""
        import os

        from .. import early_frame

        kept = self.kept_colours()
        key = early_frame.frame_key(dict(os.environ), self.launch.config.theme)
        self.app.run_worker(
            lambda: early_frame.remember(early_frame.kept_path(), key, kept), thread=True, group="settings"
        )

    def kept_colours(self) -> early_frame.Kept:
        """Each style the frame can use, as Textual writes it on this terminal in this theme,
        and the header and footer lines as drawn (also below the main screen, hidden)."""
        from textual.geometry import Region
        from textual.visual import Visual

        from .. import early_frame

        body = self.query_one("#start-body", Static)
        console = self.app.console

        def begins(strip: Strip, at: int) -> str:
            """The escape sequence that begins the cell `at` of `strip`."""
            segment = next(iter(strip.crop(at, at + 1)))
            drawn = Strip([Segment("X", segment.style)]).render(console)
            return drawn[: drawn.index("X")]

        styles = {}
        for style in start_frame.styles():
            [strip] = Visual.to_strips(body, to_content([("X", style)]), 1, 1, body.visual_style)
            styles[style] = begins(strip, 0)
        width = self.app.size.width
        header, footer = (
            widget.render_lines(Region(0, 0, width, 1))[0]
            for widget in (self.query_one(AppHeader), self.query_one(KeyFooter))
        )
        return early_frame.Kept(
            styles=styles,
            bars=early_frame.bars(self.launch, width),
            header=header.render(console),
            footer=footer.render(console),
            header_fill=begins(header, width - 1),
            footer_fill=begins(footer, width - 1),
        )

    def _panes(self, width: int, height: int) -> Content:
        """The four panes, `width` x `height` cells (see start_frame.panes)."""
        page = self._page
        if page is None or page.page_size != self.page_size:
            page = store_page(self.history, self.launch.profile, 1, self.page_size)
        lines = start_frame.panes(width, height, page, self.app.now(), self.launch.profile.default_mode)  # type: ignore[attr-defined]
        return Content("\n").join(to_content(line) for line in lines)


def to_content(line: Line) -> Content:
    """A line of runs as Content: each run's layers of style, bottom first."""
    text: list[str] = []
    spans: list[Span] = []
    at = 0
    for part, style in line:
        end = at + len(part)
        if style:
            spans.extend(Span(at, end, layer) for layer in style.split(LAYER))
        text.append(part)
        at = end
    return Content("".join(text), spans)
