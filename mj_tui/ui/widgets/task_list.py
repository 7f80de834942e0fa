"""One page of tasks, newest first, updated in place while they run.

OptionList, not ListView: it renders lines instead of mounting a widget per
task, so a page redraws in milliseconds however often the poller reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.segment import Segment
from textual import on
from textual.content import Content
from textual.message import Message
from textual.strip import Strip
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...core.models import Page, Task
from .. import start_frame
from ..messages import TaskActivated, TaskHighlighted
from ..task_format import row_runs


class TaskList(OptionList):
    @dataclass
    class RowsChanged(Message):
        """The list shows this many rows now: pages should hold that many tasks."""

        rows: int

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows = 0
        self._built_compact: bool | None = None  # the row style the options were built in
        self.clock = clock
        self.page: Page | None = None
        self.tasks: list[Task] = []
        self.border_title = "Tasks"

    # -- filling ----------------------------------------------------------------------
    def show_page(self, page: Page, *, select: str | None = None) -> None:
        """Replace the rows; keep the cursor on the same task where possible."""
        keep = select or (self.current.id if self.current else None)
        if self.page is not None and page == self.page and page.tasks == self.tasks:
            # the same page again (the cached copy, then the loaded one): no rebuild, no
            # re-highlight, so the panes beside it do not redraw for nothing
            index = next((i for i, t in enumerate(self.tasks) if t.id == keep), None)
            if index is not None and index != self.highlighted:
                self.highlighted = index
            return
        self.page = page
        self.tasks = list(page.tasks)
        self._rebuild(keep)
        self._update_subtitle()

    def put_first(self, task: Task, *, select: bool = True) -> None:
        """A task submitted just now: top of the list, selected (or, not `select`, with the
        selection kept: a job the queue sent while the person looks at another task)."""
        keep = None if select or self.current is None else self.current.id
        self.tasks = [task, *(t for t in self.tasks if t.id != task.id)]
        if self.page is not None:
            size = self.page.page_size
            known = any(t.id == task.id for t in self.page.tasks)
            self.tasks = self.tasks[:size]
            self.page = Page(self.tasks, self.page.page, size, self.page.total + (0 if known else 1))
        self._rebuild(keep or task.id)
        self._update_subtitle()

    def update_task(self, task: Task) -> bool:
        """Redraw one row in place; returns whether the task is on this page."""
        for i, old in enumerate(self.tasks):
            if old.id == task.id:
                self.tasks[i] = task
                self._set_row(i, task)
                if i == self.highlighted:
                    self.post_message(TaskHighlighted(task))
                return True
        return False

    def tick(self) -> None:
        """Advance the elapsed time of running rows (once a second)."""
        for i, task in enumerate(self.tasks):
            if task.status.in_flight:
                self._set_row(i, task)

    def redraw(self) -> None:
        self._rebuild(self.current.id if self.current else None)

    # -- reading ----------------------------------------------------------------------
    @property
    def current(self) -> Task | None:
        index = self.highlighted
        if index is None or not 0 <= index < len(self.tasks):
            return None
        return self.tasks[index]

    def find(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    # -- internals --------------------------------------------------------------------
    def _compact(self) -> bool:
        if not self.size.width:
            # not laid out yet (the first page is built before the first layout): the width
            # the layout gives the list, as the first frame reckoned it, so its rows are not
            # drawn wide once and narrow again a frame later
            return start_frame.compact_rows(start_frame.list_pane_width(self.app.size.width))
        return 0 < self.size.width < 50

    def _row(self, task: Task):
        return Content.assemble(*row_runs(task, self.clock(), compact=self._compact()))

    def _set_row(self, index: int, task: Task) -> None:
        """Redraw one row.  OptionList.replace_option_prompt_at_index repaints the whole
        list: ~16 kB sent to the terminal per progress tick, over SSH too.  A row of the
        same height needs only its own lines painted.  Uses OptionList internals (textual
        is pinned); if they are not there, or the row grows or shrinks (a failure's reason
        comes or a modal's "waiting" line goes), the whole list it is."""
        row = self._row(task)
        try:
            option = self.get_option_at_index(index)
            cache = self._option_render_cache
            line = self._index_to_line[index]
            old = option.prompt
            same_height = (old.plain if isinstance(old, Content) else str(old)).count("\n") == row.plain.count("\n")
        except (AttributeError, KeyError, IndexError):
            same_height = False
        if not same_height:
            self.replace_option_prompt_at_index(index, row)
            return
        option._set_prompt(row)
        for key in [key for key in cache.keys() if key[0] is option]:  # noqa: SIM118 (an LRUCache: not iterable)
            cache.discard(key)
        self.refresh_lines(line)

    def _rebuild(self, keep: str | None) -> None:
        self._built_compact = self._compact()
        self.set_options(Option(self._row(t), id=t.id) for t in self.tasks)
        index = next((i for i, t in enumerate(self.tasks) if t.id == keep), 0)
        if self.tasks:
            self.highlighted = index
        self.post_message(TaskHighlighted(self.current))

    def _update_subtitle(self) -> None:
        if self.page is None:
            self.border_subtitle = ""
            return
        self.border_subtitle = f"page {self.page.page} of {self.page.pages} · total {self.page.total}"

    # -- the selected row's marker (visible without colour) ------------------------------
    def _get_left_gutter_width(self) -> int:
        return 1  # the cell the widget's left padding gave (see app.tcss): same geometry

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            index, line_offset = self._lines[self.scroll_offset.y + y]
        except IndexError:  # below the last row
            index, line_offset = -1, -1
        if index == self.highlighted and index >= 0:
            style = self.get_visual_style("option-list--option", "option-list--option-highlighted").rich_style
        else:
            style = self.get_visual_style("option-list--option").rich_style
        marker = "▶" if index == self.highlighted and line_offset == 0 else " "
        return Strip([Segment(marker, style), *strip], strip.cell_length + 1)

    def on_resize(self) -> None:
        # rows are built narrow or wide (see _compact); OptionList re-wraps them itself, so
        # only a change of style rebuilds them (not the first layout: the first frame builds
        # a page once)
        if self.tasks and self._compact() != self._built_compact:
            self.redraw()
        rows = self.scrollable_content_region.height
        if rows > 0 and rows != self._rows:
            self._rows = rows
            self.post_message(self.RowsChanged(rows))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(TaskHighlighted(self.current))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.current is not None:
            self.post_message(TaskActivated(self.current))
