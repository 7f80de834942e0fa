"""The service behind the main screen: built after the first frame, then pages, polling and
the balance.

The first frame comes from the local store alone; the service (httpx, and the emulator in
the demo) is built in a thread after it. Polling asks once per tick for every task in
flight, and skips a tick rather than stacking requests behind a slow one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual.timer import Timer

from ...core.history import store_page
from ...core.models import ButtonKind, Page, Status, Task
from .. import gc_tuning
from ..text import clean
from .base import Flow, short

if TYPE_CHECKING:
    from ...core.service import MjService
    from ...launch import Launch


class Connection(Flow):
    """Connecting, pages, polling, the balance; one per main screen."""

    def __init__(self, screen) -> None:
        super().__init__(screen)
        self.started = False  # panes mounted and the first page drawn
        self._poll_running = False
        self._ticks = 0
        self._timers: list[Timer] = []  # the service's timers, stopped on reconnect
        self._fit_timer: Timer | None = None

    # -- connecting -------------------------------------------------------------------
    def first_frame(self) -> None:
        """The local store only: tasks on screen before httpx, the emulator or the network."""
        screen = self.screen
        screen.tasks.show_page(store_page(screen.history, self.session.launch.profile, 1, self.session.page_size))
        self.started = True
        screen.call_after_refresh(self.connect)
        screen.call_after_refresh(self.notices)

    def connect(self) -> None:
        launch = self.session.launch

        def build() -> None:
            # imports httpx and (demo) builds the emulator: a thread, after the first frame
            service = launch.make_service(history=self.screen.history)
            self.screen.app.call_from_thread(self.connected, service, launch)

        self.run(build, group="connect", exclusive=True, thread=True)

    def connected(self, service: MjService, launch: Launch) -> None:
        screen, session = self.screen, self.session
        if not screen.is_attached or launch is not session.launch:  # gone, or a newer key came meanwhile
            screen.app.run_worker(service.aclose(), exit_on_error=False)
            return
        session.service = service
        screen.preview.service = service
        capabilities = service.capabilities
        screen.composer.set_modes(capabilities.modes)
        # a button the dialect cannot take is shown dimmed, and says why when pressed
        screen.actions.unavailable = (
            {}
            if capabilities.modal_step
            else {ButtonKind.CUSTOM_ZOOM: f"{capabilities.label} has no Custom Zoom: it has no dialog step"}
        )
        session.ready.set()
        screen.preview.show(screen.tasks.current)
        number = screen.tasks.page.page if screen.tasks.page else 1  # the person may have paged already
        screen.tasks.show_page(service.cached_page(number, session.page_size))
        self.load_page(number)
        self._timers = [
            screen.set_interval(service.poll_interval, self._poll_tick),
            screen.set_interval(1.0, screen.tasks.tick),
        ]
        self.load_balance()
        self.run(self._reconcile(service), group="reconcile")
        screen.queue.connected(service)
        if launch.config.webhook_listen:
            self.run(self._listen(service, launch), group="webhooks")
        session.changed()
        screen.call_after_refresh(gc_tuning.tune, screen.app)  # full GCs out of key presses

    def reconnect(self, launch: Launch) -> None:
        """A new key: drop the old service (and its polling), build a new one."""
        for timer in self._timers:
            timer.stop()
        screen, session = self.screen, self.session
        screen.workers.cancel_node(screen)
        self._poll_running = False
        screen.queue.disconnected()
        if session.service is not None:
            screen.app.run_worker(session.service.aclose(), exit_on_error=False)
        session.reset(launch)
        self.connect()

    async def _listen(self, service: MjService, launch: Launch) -> None:
        """Take the provider's callbacks (config [webhooks] or --webhook-listen); polling
        goes on, a callback may never come."""
        from ...core.webhooks import parse_listen

        host, port = parse_listen(launch.config.webhook_listen or "")
        service.on_callback = self._heard  # the server runs on this loop: called on the UI's thread
        listener = await service.listen(host, port, public_url=launch.config.webhook_public_url)
        self.notify(f"Taking the provider's callbacks at {listener.base_url}.", title="Webhooks", timeout=4)

    async def _reconcile(self, service: MjService) -> None:
        """Prompts an earlier run sent without hearing back (it was killed): found, or
        listed as unconfirmed for the person to resolve. Never sent again by itself."""
        settled = await service.reconcile()
        if not settled:
            return
        self.load_page(1)
        unconfirmed = [t for t in settled if t.status == Status.UNCONFIRMED]
        found = len(settled) - len(unconfirmed)
        lines = []
        if found:
            lines.append(f"{found} sent before mj-tui stopped {'was' if found == 1 else 'were'} found at the provider.")
        if unconfirmed:
            lines.append(
                f"{len(unconfirmed)} may or may not have reached it: on the list as unconfirmed "
                "(enter sends again, x dismisses)."
            )
        self.notify("\n".join(lines), title="Sent before a restart", severity="warning", timeout=10)

    def notices(self) -> None:
        """What the person should know about the history: a damaged file moved aside, a
        store that runs from memory, a sent task it could not keep. Once each."""
        for notice in self.screen.history.take_notices():
            self.notify(clean(str(notice)), title="History", severity="warning", timeout=15)
        service = self.session.service
        while service is not None and service.notices:
            self.notify(clean(service.notices.pop(0)), title="History", severity="warning", timeout=12)

    # -- pages ------------------------------------------------------------------------
    def fit_pages(self, rows: int) -> None:
        """The task list can show `rows` rows: pages of that many, the selection kept
        (after a drag-resize has settled: each step would read a page). A page size set
        in the profile stays as set."""
        if self.session.launch.profile.page_size:
            return
        if self._fit_timer is not None:
            self._fit_timer.stop()
        self._fit_timer = self.screen.set_timer(0.15, lambda: self._fit(rows))

    def _fit(self, rows: int) -> None:
        self._fit_timer = None
        session = self.session
        if rows < 1 or rows == session.page_size:
            return
        current = self.screen.tasks.current
        session.page_size = rows
        number = 1
        if current is not None and session.service is not None and not session.query:
            number = session.service.page_of(current.id, rows) or 1
        self.show_page(number, select=current.id if current is not None else None)

    def lister(self) -> Callable[[int, int], Awaitable[Page]]:
        """What the list shows, as pages of any size (the gallery pages through it too):
        every task, or what the search in force finds."""
        query = self.session.query

        async def load(number: int, size: int) -> Page:
            return await self.read_page(number, size, query)

        return load

    async def read_page(self, number: int, size: int, query: str = "") -> Page:
        """Page `number` of every task (the provider's pages where it keeps them), or of
        what `query` finds in the local store (read in a thread: it is a disk read)."""
        service = await self.ready()
        if query:
            return await asyncio.to_thread(service.search, query, number, size)
        return await service.page(number, size)

    def list_name(self) -> str:
        """What the list shows, in words."""
        query = self.session.query
        return f"search {clean(query, one_line=True)!r}" if query else "all tasks"

    def show_page(self, number: int, *, select: str | None = None) -> None:
        service = self.session.service
        if self.session.query:
            self.run(self._search_page(number, select), group="page", exclusive=True)
            return
        if service is not None:
            cached = service.cached_page(number, self.session.page_size)
        else:
            cached = store_page(self.screen.history, self.session.launch.profile, number, self.session.page_size)
        if cached.tasks:
            self.screen.tasks.show_page(cached, select=select)
        self.load_page(number)

    def load_page(self, number: int) -> None:
        self.run(self._load_page(number), group="page", exclusive=True)

    async def _search_page(self, number: int, select: str | None) -> None:
        query = self.session.query
        page = await self.read_page(number, self.session.page_size, query)
        if query == self.session.query:  # not left meanwhile
            self.screen.tasks.show_page(page, select=select)

    async def _load_page(self, number: int) -> None:
        if self.session.query:
            await self._search_page(number, None)
            return
        added = self.session.added
        since = len(added)
        page = await (await self.ready()).page(number, self.session.page_size)
        if self.session.query:
            return  # a search began meanwhile: its results stay
        if page.page == 1 and len(added) > since:
            page = self._with_added(page, added[since:])
        self.screen.tasks.show_page(page)
        self.session.changed()

    def _with_added(self, page: Page, added: list[str]) -> Page:
        """Page 1 as the server saw it, plus what was submitted while the answer was on its
        way (a slow link): it would take the new task off the list, and its progress with it."""
        service = self.session.service
        assert service is not None
        there = {t.id for t in page.tasks}
        late: list[Task] = []
        for task_id in reversed(added):  # newest first, as on the list
            task = service.get_cached(task_id)
            if task is not None and task.id not in there:
                there.add(task.id)
                late.append(task)
        if not late:
            return page
        return Page([*late, *page.tasks][: page.page_size], page.page, page.page_size, page.total + len(late))

    def refresh_task(self, task_id: str) -> None:
        async def refresh() -> None:
            task = await (await self.ready()).refresh(task_id)
            self.screen.tasks.update_task(task)
            self.session.changed()

        self.run(refresh(), group="refresh", exclusive=True)

    def task_added(self, task: Task) -> None:
        """A new task: top of page 1, selected, with its first state shown.

        No toast: the new row at the top, marked as selected, and the preview's "Rendering"
        say it (toasts after every action hid the preview's header for seconds)."""
        tasks = self.screen.tasks
        service = self.session.service
        if tasks.page is not None and tasks.page.page != 1 and service is not None:
            tasks.show_page(service.cached_page(1, self.session.page_size), select=task.id)
        tasks.put_first(task)
        self.session.added.append(task.id)
        self.session.changed()
        self.notices()

    def task_arrived(self, task: Task) -> None:
        """A task the queue sent (here, or another process on the same queue): on the plain
        list's first page, the selection kept; elsewhere the list is left as it is."""
        tasks = self.screen.tasks
        if self.session.query or tasks.page is None or tasks.page.page != 1:
            return
        if not tasks.update_task(task):
            tasks.put_first(task, select=False)
        self.session.changed()

    # -- polling ----------------------------------------------------------------------
    def _poll_tick(self) -> None:
        # skip rather than cancel: a slow poll must finish, not be restarted forever
        service = self.session.service
        self._ticks += 1
        # callbacks bring the news: poll at the slower pace, as the fallback only
        slower = service is not None and service.poll_every > service.poll_interval
        if slower and service is not None and self._ticks % round(service.poll_every / service.poll_interval):
            return
        if not self._poll_running and service is not None and service.in_flight:
            self._poll_running = True
            self.run(self._poll(service), group="poll", exclusive=True)

    async def _poll(self, service: MjService) -> None:
        screen = self.screen
        try:
            result = await service.poll()
        finally:
            self._poll_running = False
        for task in [*result.updated, *result.finished]:
            screen.tasks.update_task(task)
            self._tell_gallery(task)
        self._announce_all(result.finished)
        for task in result.modal:
            screen.tasks.update_task(task)
            screen.buttons.ask_modal(task)
        for task in result.stale:
            self.notify(
                f"#{clean(task.id)} has not moved for a while; the provider may have lost it.",
                title="No progress",
                severity="warning",
            )
        self.session.changed()
        self.notices()
        if result.finished:
            self.load_balance()
        if result.updated or result.finished or result.modal:
            screen.queue.step()  # a job may have finished: its slot is free

    def _heard(self, task: Task) -> None:
        """A callback brought news of a task: shown as a poll's would be."""
        screen = self.screen
        if not screen.is_attached or self.session.service is None:
            return
        screen.tasks.update_task(task)
        self._tell_gallery(task)
        if task.status.is_terminal:
            self._announce_all([task])
            self.load_balance()
        elif task.status == Status.MODAL:
            screen.buttons.ask_modal(task)
        self.session.changed()
        screen.queue.step()

    def _tell_gallery(self, task: Task) -> None:
        """An open gallery shows the news too (a finished picture appears in its tile)."""
        from ..screens.gallery import GalleryScreen

        for open_screen in self.screen.app.screen_stack:
            if isinstance(open_screen, GalleryScreen):
                open_screen.update_task(task)

    def _announce_all(self, finished: list[Task]) -> None:
        """One toast per finished task, but several successes at once share one (a stack
        of toasts would hide the preview on a small terminal). A describe or shorten sent
        here announces itself: its prompts are the news."""
        suggestions = self.screen.files
        plain = [t for t in finished if t.status == Status.SUCCESS and not suggestions.announces_itself(t)]
        if len(plain) > 1:
            names = ", ".join(f"#{clean(t.id)}" for t in plain)
            self.notify(f"{len(plain)} tasks: {names}", title="Done", severity="information", timeout=3)
        for task in finished:
            if task.status == Status.SUCCESS and suggestions.announces_itself(task):
                suggestions.prompts_ready(task)
            elif task not in plain or len(plain) == 1:
                self._announce(task)

    def _announce(self, task: Task) -> None:
        what = short(task.prompt or task.description or task.id, 40)
        name = clean(task.id)
        if task.status == Status.SUCCESS:
            self.notify(f"#{name} {what}", title="Done", severity="information", timeout=3)
        elif task.status == Status.FAILURE:
            reason = clean(task.fail_reason or "no reason given", one_line=True)
            self.notify(f"#{name} {what}\n{reason}", title="Failed", severity="error", timeout=6)
        else:
            self.notify(f"#{name} {what}", title="Cancelled", severity="warning")

    # -- balance ----------------------------------------------------------------------
    def load_balance(self) -> None:
        self.run(self._load_balance(), group="balance", exclusive=True)

    async def _load_balance(self) -> None:
        from ...core.errors import MjError

        try:
            balance = await (await self.ready()).balance()
        except MjError:
            balance = None  # a balance we cannot read is hidden, not an error to shout about
        self.screen.header.balance = balance
