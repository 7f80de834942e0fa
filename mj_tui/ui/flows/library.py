"""The body of work: searching the list, stars and tags, bringing the provider's history
in (sync) and saving many pictures at once (export).

The store is SQLite on disk: every read and write here runs in a thread, so a key press
never waits on it. A search follows the typing: one query runs at a time, and keys typed
meanwhile coalesce into the newest query, which runs next (fast typing over a big history
never queues up searches, and a slow disk only makes the list lag, never the keys).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.errors import MjError, QueryError
from ...core.models import Page, Task, normalize_tag
from ..text import clean
from .base import Flow

if TYPE_CHECKING:
    from ...core.exporting import ExportProgress, ExportReport
    from ...core.service import MjService
    from ...core.sync import SyncProgress
    from ..widgets.search_line import SearchLine

#: tasks read per page while exporting a search or the starred set
EXPORT_PAGE = 100


def bar(done: int, total: int, width: int = 10) -> str:
    """A progress bar in text, for a pane's title: ━━━━━─────."""
    filled = round(width * min(1.0, done / total)) if total > 0 else 0
    return "━" * filled + "─" * (width - filled)


class Library(Flow):
    """Search, stars, tags, sync and export for the main screen."""

    def __init__(self, screen) -> None:
        super().__init__(screen)
        self._asked = 0  # queries typed: an answer to an older one is dropped
        self._searching = False  # a query is in its thread
        self._wanted: tuple[str, int] | None = None  # the newest query typed meanwhile
        self._tags: list[str] = []  # tag names for completion, read when the line opens
        self.syncing = False
        self.exporting = False

    @property
    def line(self) -> SearchLine:
        from ..widgets.search_line import SearchLine

        return self.screen.query_one(SearchLine)

    # -- search -----------------------------------------------------------------------
    def open_search(self) -> None:
        """/ : the search line, with the query in force if there is one."""
        self.line.open(self.session.query or None)
        self.run(self._read_tags(), group="tag-names", exclusive=True)

    async def _read_tags(self) -> None:
        service = await self.ready()
        try:
            names = await asyncio.to_thread(service.tag_names)
        except MjError:
            return  # completion without tags: the search still works
        self._tags = [name for name, _ in names]

    def complete(self, query: str, cursor: int) -> list[str]:
        """Tab in the search line: term names, their values, the tags in use."""
        from ...core.search import complete_term

        return complete_term(query, cursor, self._tags, profile=self.session.launch.profile.name)

    def changed(self, query: str) -> None:
        """The query was edited: run it now, or after the one in its thread."""
        self._asked += 1
        self._wanted = (query, self._asked)
        if not self._searching:
            self._next_query()

    def _next_query(self) -> None:
        if self._wanted is None:
            return
        query, asked = self._wanted
        self._wanted = None
        if not query.strip():
            self.line.say("")
            if self.session.query:
                self._leave_query()
            return
        self._searching = True
        self.run(self._search(query, asked), group="search")

    async def _search(self, query: str, asked: int) -> None:
        try:
            await self._search_now(query, asked)
        finally:
            self._searching = False
            self._next_query()

    async def _search_now(self, query: str, asked: int) -> None:
        service = await self.ready()
        size = self.session.page_size
        try:
            page = await asyncio.to_thread(service.search, query, 1, size)
        except QueryError as exc:
            if asked == self._asked:
                self.line.point_at(exc.message, exc.start, exc.end)
            return
        except MjError as exc:
            if asked == self._asked:
                self.line.say(exc.message, problem=True)
            return
        if asked != self._asked:
            return  # typed on meanwhile: the newer query's answer is the one to show
        self.session.query = query
        self.screen.tasks.show_page(page)
        self._titles()
        found = f"{page.total} found" if page.total else "nothing found"
        self.line.say(f"{found} · enter: the results · esc: all tasks")

    def results(self) -> None:
        """Enter or down in the search line: to the results, the search kept."""
        tasks = self.screen.tasks
        if not self.line.query_text.strip():
            self.close_search()
            return
        self.screen.set_focus(tasks)

    def close_search(self) -> None:
        """Esc: every task again, on the page that holds the selected one."""
        self._asked += 1
        self._wanted = None
        self.line.close()
        self._leave_query()
        self.screen.set_focus(self.screen.tasks)

    def _leave_query(self) -> None:
        self.session.query = ""
        self._titles()
        current = self.screen.tasks.current
        if current is None:
            self.screen.connection.show_page(1)
            return
        self.run(self._back_to(current.id), group="search", exclusive=True)

    async def _back_to(self, task_id: str) -> None:
        service = await self.ready()
        size = self.session.page_size
        number = await asyncio.to_thread(service.page_of, task_id, size)
        self.screen.connection.show_page(number or 1, select=task_id)

    def _titles(self) -> None:
        tasks = self.screen.tasks
        tasks.border_title = "Tasks · search" if self.session.query else "Tasks"

    # -- stars and tags -----------------------------------------------------------------
    def _selected(self) -> Task | None:
        task = self.screen.tasks.current
        if task is None:
            self.notify("Select a task first.", severity="warning", timeout=2)
        return task

    def toggle_star(self, task: Task | None = None) -> None:
        """* : star the selected task, or unstar it."""
        task = task or self._selected()
        if task is not None:
            self.run(self.set_star(task, not task.starred), group="star")

    async def set_star(self, task: Task, on: bool) -> Task:
        """Star or unstar `task`; its row (and an open gallery's tile) show it. Returns the task as stored."""
        service = await self.ready()
        stored = await asyncio.to_thread(service.star, task.id, on)
        self._show(stored)
        return stored

    def edit_tags(self, task: Task | None = None) -> None:
        """t : the task's (the selected one's) tags, as a line to edit (tab completes a tag in use)."""
        task = task or self._selected()
        if task is not None:
            self.run(self._edit_tags(task), group="tags", exclusive=True)

    async def _edit_tags(self, task: Task) -> None:
        from ..screens.ask import AskDialog

        service = await self.ready()
        try:
            names = [name for name, _ in await asyncio.to_thread(service.tag_names)]
        except MjError:
            names = []

        def problem(text: str) -> str | None:
            bad = [word for word in text.split() if normalize_tag(word) is None]
            if bad:
                return (
                    f"Not a tag: {bad[0][:40]!r}. Letters, digits, - and _, up to 32, starting with a letter or digit."
                )
            return None

        dialog = AskDialog(
            f"Tags · #{clean(task.id)}",
            "Tags, separated by spaces (delete one to remove it). Tab completes a tag in use.",
            " ".join(task.tags) + (" " if task.tags else ""),
            validate=problem,
            suggestions=names,
            last_word=True,
            placeholder="e.g. food portfolio",
        )
        answer = await self.screen.app.push_screen_wait(dialog)
        if answer is None:
            return
        wanted = {t for t in (normalize_tag(word) for word in answer.split()) if t}
        stored = task
        for name in sorted(wanted - set(task.tags)):
            stored = await asyncio.to_thread(service.tag, task.id, name)
        for name in sorted(set(task.tags) - wanted):
            stored = await asyncio.to_thread(service.untag, task.id, name)
        if stored is task:  # nothing changed
            return
        self._show(stored)
        self.notify(
            f"#{clean(task.id)}: " + (" ".join(f"#{t}" for t in stored.tags) or "no tags"), title="Tags", timeout=3
        )

    def _show(self, task: Task) -> None:
        """A task's stars or tags changed: its row and an open gallery's tile say so."""
        from ..screens.gallery import GalleryScreen

        listed = self.screen.tasks.find(task.id)
        if listed is not None:  # the row's copy may be newer in its state than the store's answer
            self.screen.tasks.update_task(replace(listed, starred=task.starred, tags=task.tags))
        for screen in self.screen.app.screen_stack:
            if isinstance(screen, GalleryScreen):
                screen.update_marks(task)

    # -- sync -------------------------------------------------------------------------
    def sync(self) -> None:
        """Bring the provider's history into the local store, in the background."""
        if self.syncing:
            self.notify("A sync is running already.", severity="warning", timeout=3)
            return
        self.run(self._sync(), group="sync", exclusive=True)

    async def _sync(self) -> None:
        service = await self.ready()
        self.syncing = True
        tasks = self.screen.tasks
        tasks.border_title = "Tasks · syncing…"
        # OhMyGPT keeps the account's history: it is read in. midjourney-proxy keeps none
        # for a key: this machine's store is the history, its unfinished tasks are asked about
        server_history = service.capabilities.server_history

        def progress(step: SyncProgress) -> None:
            of = f" of {step.total:,}" if step.total is not None else ""
            shown = f"{bar(step.tasks_stored, step.total)} " if step.total else ""
            tasks.border_title = f"Tasks · syncing {shown}{step.tasks_stored:,}{of} · {step.new:,} new"

        if server_history:
            self.notify("Reading the provider's history into this machine's store…", title="Sync", timeout=3)
        try:
            result = await service.sync(on_progress=progress)
        finally:
            self.syncing = False
            self._titles()
        done = "complete" if result.complete else "stopped early: run it again to go on"
        if server_history:
            text = f"{result.tasks_stored:,} tasks read, {result.new:,} new; {done}."
        elif result.tasks_stored:
            asked = f"{result.tasks_stored:,} unfinished tasks here asked about"
            text = f"{service.capabilities.label} keeps no history: {asked}."
        else:
            label = service.capabilities.label
            text = f"{label} keeps no history, and no task here is unfinished: nothing to ask."
        self.notify(
            text + (f"\n{result.unfinished} still unfinished." if result.unfinished else ""), title="Sync", timeout=8
        )
        page = self.screen.tasks.page
        self.screen.connection.show_page(page.page if page else 1)

    # -- export -----------------------------------------------------------------------
    def export(self, what: str) -> None:
        """Save many pictures into a folder: `what` is "starred" or "search" (the list's search)."""
        if self.exporting:
            self.notify("An export is running already.", severity="warning", timeout=3)
            return
        query = "is:starred" if what == "starred" else self.session.query
        if not query:
            self.notify("No search in force: / searches, then export what it finds.", severity="warning", timeout=4)
            return
        self.run(self._export(query, what), group="export", exclusive=True)

    async def _export(self, query: str, what: str) -> None:
        from ..screens.ask import AskDialog

        service = await self.ready()
        first = await asyncio.to_thread(service.search, query, 1, EXPORT_PAGE)
        if not first.total:
            self.notify(f"Nothing to export: no {what} tasks.", severity="warning", timeout=4)
            return
        base = self.screen.pictures.save_folder()
        suggested = base / f"mj-tui-{what}-{datetime.now():%Y-%m-%d}"
        plural = "" if first.total == 1 else "s"
        words = f"starred task{plural}" if what == "starred" else f"task{plural} found by {query!r}"
        dialog = AskDialog(
            f"Export {first.total:,} {words}",
            "Into this folder (made if missing; what is there already is kept and skipped):",
            str(suggested),
            validate=lambda text: None if text.strip() else "A folder, please.",
        )
        answer = await self.screen.app.push_screen_wait(dialog)
        if answer is None:
            return
        folder = await asyncio.to_thread(Path(answer).expanduser)  # (~ may read the user database)
        self.exporting = True
        tasks = self.screen.tasks

        def progress(step: ExportProgress) -> None:
            of = step.total or first.total
            tasks.border_title = f"Tasks · exporting {bar(step.done, of)} {step.done:,} of {of:,}"

        try:
            report = await service.export_many(
                self._pages(service, query, first), folder, on_progress=progress, total=first.total
            )
        finally:
            self.exporting = False
            self._titles()
        self._report(report, folder)

    async def _pages(self, service: MjService, query: str, first: Page) -> AsyncIterator[Task]:
        page = first
        while True:
            for task in page.tasks:
                yield task
            if page.page >= page.pages:
                return
            page = await asyncio.to_thread(service.search, query, page.page + 1, EXPORT_PAGE)

    def _report(self, report: ExportReport, folder: Path) -> None:
        lines = [f"{len(report.saved)} saved in {folder}"]
        if report.skipped:
            lines.append(f"{len(report.skipped)} there already")
        if report.left_out:
            lines.append(f"{len(report.left_out)} with no picture to save (unfinished, a /describe…)")
        if report.stopped:
            lines.append(f"Stopped: {clean(report.stopped, one_line=True)}")
        if report.failed:
            first_id, reason = next(iter(report.failed.items()))
            lines.append(
                f"{len(report.failed)} could not be had, e.g. #{clean(first_id)}: {clean(reason, one_line=True)}"
            )
        self.notify(
            "\n".join(lines),
            title="Export",
            severity="information" if report.ok else "warning",
            timeout=10,
        )
