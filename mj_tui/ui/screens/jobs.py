"""Everything the main screen asks of the service, each call in a worker.

Async workers for HTTP (the service is async), so the UI never waits.  Worker
errors go to the central handler (``ReportWorkerErrors`` -> a toast), except
where a failure belongs in a pane.
"""

from __future__ import annotations

import asyncio

from textual import work
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ...core import pricing
from ...core.errors import MjError, QueueFull
from ...core.history import store_page
from ...core.models import Button, ButtonKind, Mode, Page, Status, Task
from ...core.uploads import image_data_uri
from .. import gc_tuning
from ..text import clean
from .modal_prompt import PromptDialog

MODAL_TITLES = {
    ButtonKind.CUSTOM_ZOOM: (
        "Custom Zoom",
        "Edit the prompt; --zoom 1 to 2 sets how far to zoom out (--ar may change too).",
    ),
    ButtonKind.DESCRIBE_PICK: ("Imagine", "Midjourney asks for the prompt to imagine. Edit it or send it as it is."),
    ButtonKind.SHORTEN_PICK: ("Imagine", "Midjourney asks for the prompt to imagine. Edit it or send it as it is."),
}
REMIX = ("Remix", "Midjourney wants the prompt for this step (Remix mode). Edit it or send it as it is.")


def short(text: str, limit: int = 48) -> str:
    text = clean(text, one_line=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Jobs(Screen):
    """Service calls of the main screen (a mixin: the panes are on MainScreen)."""

    def init_jobs(self) -> None:
        self.service = None  # MjService, once connect() has built it
        self.started = False  # panes mounted and the first page drawn
        self._service_ready: asyncio.Event | None = None
        self._sending = False  # an imagine is on the wire
        self._pressing: set[tuple[str, str]] = set()  # (task id, customId) presses on the wire
        self._modal_queue: list[Task] = []
        self._modal_open = False
        self._poll_running = False
        self._service_timers: list = []  # the service's timers, stopped on reconnect
        self._added: list[str] = []  # ids of the tasks this session added, oldest first

    def first_frame(self) -> None:
        """The local store only: tasks on screen before httpx, the emulator or the network."""
        self._service_ready = asyncio.Event()
        self.tasks.show_page(store_page(self.history, self.launch.profile, 1))
        self.started = True
        self.call_after_refresh(self.connect)

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False)
    def connect(self) -> None:
        # imports httpx and (demo) builds the emulator: a thread, after the first frame
        key = self.key
        service = self.launch.make_service(key, history=self.history)
        self.app.call_from_thread(self.connected, service, key)

    def connected(self, service, key) -> None:
        if not self.is_attached or key is not self.key:  # gone, or a newer key came meanwhile
            self.app.run_worker(service.aclose(), exit_on_error=False)
            return
        self.service = service
        self.app.service = service
        self.preview.service = service
        self.composer.set_modes(service.modes)
        # a button the dialect cannot take is shown dimmed, and says why when pressed
        self.actions.unavailable = frozenset() if service.provider.supports_modal else {ButtonKind.CUSTOM_ZOOM}
        self._service_ready.set()
        self.preview.show(self.tasks.current)
        number = self.tasks.page.page if self.tasks.page else 1  # the person may have paged already
        self.tasks.show_page(service.cached_page(number))
        self.load_page(number)
        self._service_timers = [
            self.set_interval(service.profile.poll_interval, self._poll_tick),
            self.set_interval(1.0, self._tick),
        ]
        from ..widgets.header import AppHeader

        header = self.query_one(AppHeader)
        header.queue_limit = service.queue_limit or header.queue_limit  # the profile's, if it knows one
        self.load_balance()
        self._update_queue()
        self.call_after_refresh(gc_tuning.tune, self.app)  # full GCs out of key presses

    def reconnect(self, launch, key) -> None:
        """A new key: drop the old service (and its polling), build a new one."""
        for timer in self._service_timers:
            timer.stop()
        self.workers.cancel_node(self)
        self._poll_running = self._sending = False
        if self.service is not None:
            self.app.run_worker(self.service.aclose(), exit_on_error=False)
        self.service = self.app.service = None
        self._service_ready = asyncio.Event()
        self.launch, self.key = launch, key
        self.connect()

    async def ready(self):
        """The service, waiting for connect() if a key was pressed in the first instant."""
        if self.service is None:
            await self._service_ready.wait()
        return self.service

    # -- pages ------------------------------------------------------------------------
    def show_page(self, number: int) -> None:
        if self.service is not None:
            cached = self.service.cached_page(number)
        else:
            cached = store_page(self.history, self.launch.profile, number)
        if cached.tasks:
            self.tasks.show_page(cached)
        self.load_page(number)

    @work(exclusive=True, group="page", exit_on_error=False)
    async def load_page(self, number: int) -> None:
        since = len(self._added)
        page = await (await self.ready()).page(number)
        if page.page == 1 and len(self._added) > since:
            page = self._with_added(page, self._added[since:])
        self.tasks.show_page(page)
        self._update_queue()

    def _with_added(self, page: Page, added: list[str]) -> Page:
        """Page 1 as the server saw it, plus what was submitted while the answer was on its
        way (a slow link): it would take the new task off the list, and its progress with it."""
        there = {t.id for t in page.tasks}
        late: list[Task] = []
        for task_id in reversed(added):  # newest first, as on the list
            task = self.service.get_cached(task_id)
            if task is not None and task.id not in there:
                there.add(task.id)
                late.append(task)
        if not late:
            return page
        return Page([*late, *page.tasks][: page.page_size], page.page, page.page_size, page.total + len(late))

    @work(exclusive=True, group="refresh", exit_on_error=False)
    async def refresh_task(self, task_id: str) -> None:
        task = await (await self.ready()).refresh(task_id)
        self.tasks.update_task(task)
        self._update_queue()

    # -- submits ----------------------------------------------------------------------
    @work(group="submit", exit_on_error=False)
    async def imagine(self, prompt: str, mode: Mode | None, paths: list[str]) -> None:
        if self._sending:  # a second ctrl+j while the first is on the wire: never pay twice
            self.notify("Still sending the previous prompt…", severity="warning", timeout=2)
            return
        self._sending = True
        try:
            # reading and shrinking images is disk + CPU work: off the event loop
            images = [await asyncio.to_thread(image_data_uri, path) for path in paths]
            task = await (await self.ready()).imagine(prompt, mode=mode, images=images)
        finally:
            self._sending = False
        self.composer.sent(prompt)
        self.task_added(task, f"Sent: {short(prompt)}")

    @work(group="press", exit_on_error=False)
    async def press(self, task: Task, button: Button) -> None:
        if button.kind == ButtonKind.VARY_REGION:
            await self.ask_region(task, button)
            return
        service = await self.ready()
        if button.kind == ButtonKind.CUSTOM_ZOOM and not service.provider.supports_modal:
            # OhMyGPT has no dialog step to take the --zoom value: never send a press it refuses
            self.notify(
                f"{service.provider.label} has no Custom Zoom (it has no dialog step). Zoom Out 2x / 1.5x work.",
                title="Custom Zoom",
                severity="warning",
                timeout=6,
                markup=False,
            )
            return
        await self._press(task, button)

    async def _press(self, task: Task, button: Button, *, prompt: str | None = None, mask: str | None = None) -> None:
        key = (task.id, button.custom_id)
        if key in self._pressing:
            return  # the same button again before the first press came back
        self._pressing.add(key)
        try:
            # with nothing given, a modal step comes back to us: with Remix on the person edits
            # the prompt (that is what Remix is for); with a region's mask and prompt it goes now
            given = prompt is not None or mask is not None
            outcome = await (await self.ready()).press(task, button, prompt=prompt, mask=mask, auto_modal=given)
        finally:
            self._pressing.discard(key)
        label = clean(button.display, one_line=True)
        self.task_added(outcome.task, f"{label} on #{task.id}")
        if outcome.modal_required:
            self.ask_modal(outcome.task, outcome.final_prompt, button)

    async def _region_dialog(self, image_of: Task, title: str, prompt: str, mode, done) -> None:
        """Open the mask editor over `image_of`'s picture; `done(result or None)` when it closes.

        The dialog is pushed with a callback rather than awaited, so no worker stays
        busy while the person selects (waits for workers to finish still finish)."""
        from .region import RegionDialog, load_for_editor

        service = await self.ready()
        path = await service.fetch_image(image_of)
        picture = await asyncio.to_thread(load_for_editor, path)  # decode + shrink: off the event loop
        cost = pricing.price(service.profile.provider, "VARIATION", mode)
        price = f"≈{cost:,} tok" if cost else ""
        # OhMyGPT's action takes the mask alone: the region is repainted with the task's prompt
        fixed = "" if service.provider.supports_modal else f"Prompt ({service.provider.label} keeps the task's own)"
        self.app.push_screen(RegionDialog(title, prompt, picture, price=price, prompt_fixed=fixed), done)

    async def ask_region(self, task: Task, button: Button) -> None:
        def done(result) -> None:
            if result is not None:
                self.vary_region(task, button, result)

        title = f"{clean(button.display, one_line=True)} · task #{task.id}"
        await self._region_dialog(task, title, task.final_prompt or task.prompt, task.mode, done)

    @work(group="press", exit_on_error=False)
    async def vary_region(self, task: Task, button: Button, result) -> None:
        from .region import mask_data_uri

        path = await (await self.ready()).fetch_image(task)
        # the mask at the image's own resolution; PNG encoding: off the event loop
        mask = await asyncio.to_thread(mask_data_uri, path, result.boxes)
        await self._press(task, button, prompt=result.prompt or None, mask=mask)

    @work(group="press", exit_on_error=False)
    async def region_modal(self, task: Task) -> None:
        """A Vary (Region) task waiting in MODAL (its mask was never sent): select again, send."""

        def done(result) -> None:
            self._modal_closed()
            if result is None:
                self.notify(f"Task #{task.id} waits for its areas: press enter on it to select them.", timeout=4)
            else:
                self.submit_region_modal(task, parent, result)

        try:
            service = await self.ready()
            parent = service.get_cached(task.parent_id) if task.parent_id else None
            if parent is None and task.parent_id:
                parent = await service.refresh(task.parent_id)
            if parent is None:
                self.notify(f"Task #{task.id} waits for a mask, but its picture is unknown.", severity="warning")
                self._modal_closed()
                return
            await self._region_dialog(
                parent, f"Vary (Region) · task #{task.id}", task.final_prompt or task.prompt, task.mode, done
            )
        except BaseException:
            self._modal_closed()  # no dialog came up: the next modal may
            raise

    @work(group="press", exit_on_error=False)
    async def submit_region_modal(self, task: Task, parent: Task, result) -> None:
        from .region import mask_data_uri

        service = await self.ready()
        path = await service.fetch_image(parent)
        mask = await asyncio.to_thread(mask_data_uri, path, result.boxes)
        updated = await service.submit_modal(task, result.prompt or task.final_prompt or task.prompt, mask=mask)
        self._modal_sent(task, updated)

    def task_added(self, task: Task, message: str) -> None:
        """A new task: top of page 1, selected, with its first state shown."""
        if self.tasks.page is not None and self.tasks.page.page != 1:
            self.tasks.show_page(self.service.cached_page(1), select=task.id)  # a task implies a service
        self.tasks.put_first(task)
        self._added.append(task.id)
        self.notify(message, title="Submitted", timeout=3, markup=False)
        self._update_queue()

    # -- modal step -------------------------------------------------------------------
    def ask_modal(self, task: Task, prompt: str | None = None, button: Button | None = None) -> None:
        """Open the prompt dialog for a task waiting on a modal step (one at a time)."""
        if self._modal_open:
            if all(t.id != task.id for t in self._modal_queue):
                self._modal_queue.append(task)
            return
        from ..prompt_checks import modal_problem

        self._modal_open = True
        kind = (
            button.kind
            if button is not None
            else (Button(task.origin_custom_id).kind if task.origin_custom_id else None)
        )
        if kind == ButtonKind.VARY_REGION:
            self.region_modal(task)  # a mask, not only a prompt
            return
        title, text = MODAL_TITLES.get(kind, REMIX) if kind else REMIX
        custom_zoom = kind == ButtonKind.CUSTOM_ZOOM

        def done(result: str | None) -> None:
            self._modal_closed()
            if result is not None:
                self.submit_modal(task, result)
            else:
                self.notify(f"Task #{task.id} waits for its prompt: press enter on it to send one.", timeout=4)

        prompt = prompt or task.final_prompt or task.prompt
        if custom_zoom and "--zoom" not in prompt:
            prompt = f"{prompt} --zoom 2"  # Custom Zoom needs one; 2 is Zoom Out 2x
        action = pricing.action_for_button(Button(task.origin_custom_id)) if task.origin_custom_id else None
        cost = pricing.price(task.provider, action or "IMAGINE", task.mode)
        note = f"Sending starts a paid job, ≈{cost:,} tok." if cost else ""
        self.app.push_screen(
            PromptDialog(
                f"{title} · task #{task.id}",
                text,
                prompt,
                validate=lambda text: modal_problem(text, custom_zoom=custom_zoom),
                note=note,
            ),
            done,
        )

    def _modal_closed(self) -> None:
        """One modal dialog is done: open the next one waiting, if any."""
        self._modal_open = False
        if self._modal_queue:
            self.ask_modal(self._modal_queue.pop(0))

    @work(group="press", exit_on_error=False)
    async def submit_modal(self, task: Task, prompt: str) -> None:
        updated = await (await self.ready()).submit_modal(task, prompt)
        self._modal_sent(task, updated)

    def _modal_sent(self, task: Task, updated: Task) -> None:
        if updated.id != task.id or not self.tasks.update_task(updated):
            self.task_added(updated, f"Sent the prompt for #{task.id}")
        self._update_queue()

    # -- polling ----------------------------------------------------------------------
    def _poll_tick(self) -> None:
        # skip rather than cancel: a slow poll must finish, not be restarted forever
        if not self._poll_running and self.service.poller.in_flight:
            self._poll_running = True
            self.poll()

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def poll(self) -> None:
        try:
            result = await self.service.poll()
        finally:
            self._poll_running = False
        for task in result.updated:
            self.tasks.update_task(task)
        for task in result.finished:
            self.tasks.update_task(task)
        self._announce_all(result.finished)
        for task in result.modal:
            self.tasks.update_task(task)
            self.ask_modal(task)
        for task in result.stale:
            self.notify(
                f"#{task.id} has not moved for a while; the provider may have lost it.",
                title="No progress",
                severity="warning",
                markup=False,
            )
        self._update_queue()
        if result.finished:
            self.load_balance()

    def _announce_all(self, finished) -> None:
        """One toast per finished task, but several successes at once share one (a stack
        of toasts would hide the preview on a small terminal)."""
        plain = [t for t in finished if t.status == Status.SUCCESS and not self._announces_itself(t)]
        if len(plain) > 1:
            names = ", ".join(f"#{t.id}" for t in plain)
            self.notify(f"{len(plain)} tasks: {names}", title="Done", severity="information", timeout=4, markup=False)
        for task in finished:
            if task not in plain or len(plain) == 1:
                self._announce(task)

    def _announces_itself(self, task: Task) -> bool:
        """A task whose finishing opens its own dialog or toast (describe/shorten)."""
        return False

    def _announce(self, task: Task) -> None:
        what = short(task.prompt or task.description or task.id, 40)
        if task.status == Status.SUCCESS:
            self.notify(f"#{task.id} {what}", title="Done", severity="information", timeout=4, markup=False)
        elif task.status == Status.FAILURE:
            reason = clean(task.fail_reason or "no reason given", one_line=True)
            self.notify(f"#{task.id} {what}\n{reason}", title="Failed", severity="error", timeout=8, markup=False)
        else:
            self.notify(f"#{task.id} {what}", title="Cancelled", severity="warning", markup=False)

    def _tick(self) -> None:
        self.tasks.tick()

    def _update_queue(self) -> None:
        from ..widgets.header import AppHeader

        header = self.query_one(AppHeader)
        header.running = len(self.service.poller.in_flight)
        header.spent = self.service.session_spend

    # -- balance ----------------------------------------------------------------------
    @work(exclusive=True, group="balance", exit_on_error=False)
    async def load_balance(self) -> None:
        from ..widgets.header import AppHeader

        try:
            balance = await (await self.ready()).balance()
        except MjError:
            balance = None  # a balance we cannot read is hidden, not an error to shout about
        self.query_one(AppHeader).balance = balance

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # the toast comes from ReportWorkerErrors; here only what the header learns
        from ..widgets.header import AppHeader

        error = event.worker.error
        if event.state == WorkerState.ERROR and isinstance(error, QueueFull) and error.limit:
            self.query_one(AppHeader).queue_limit = error.limit
