"""The one door the TUI and the CLI go through: provider + history + poller + images.

Nothing here knows about a screen.  Every method either returns normalized data or
raises an :class:`~mj_tui.core.errors.MjError`; callers never reach into the parts.
The service is an async context manager, and closing it closes what it opened::

    async with launch.make_service() as service:
        task = await service.imagine("a red fox")
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from PIL import Image

from . import media, pricing
from .config import Profile
from .credentials import Secret
from .errors import (
    HistoryNotWritable,
    ImageError,
    InvalidRequest,
    MalformedResponse,
    MjError,
    OutcomeUnknown,
    PromptRefused,
    RequestTimeout,
    TaskNotFound,
    Unsupported,
)
from .exporting import ExportProgress, ExportReport, export_many
from .history import History, namespace_for, store_page
from .images import ImageCache, Story, safe_filename, story_of
from .journal import Journal
from .media import Picture, SavedVideo
from .models import Action, Balance, Button, ButtonKind, Mode, Page, Status, SubmitResult, Task
from .poller import Poller, PollResult
from .prompt import PromptPlan, modal_problem, plan_prompt
from .providers import Provider, make_provider
from .queue import JobQueue

if TYPE_CHECKING:
    from .webhooks import WebhookListener
from .search import complete_term as _complete_term
from .search import parse as parse_query
from .sync import OnProgress, SyncProgress, SyncResult, refresh_local_history, walk_server_history
from .text import clean

# resume polling tasks left unfinished by an earlier run, if they are this recent
RESUME_WINDOW = 6 * 3600
# the page sizes a server that keeps the history takes (OhMyGPT's query-mj-tasks)
SERVER_PAGE_SIZES = (5, 20)
# how long `wait` follows a task before it gives up (Relax jobs can queue for a long time)
DEFAULT_WAIT = 30 * 60


@dataclass(frozen=True)
class Capabilities:
    """What the provider behind the service offers, for a caller to offer (or dim) in turn."""

    #: the dialect's name as a person knows it ("OhMyGPT", "midjourney-proxy")
    label: str
    modes: tuple[Mode, ...]
    #: the server keeps a paged history of the key's tasks (else the local store is the list)
    server_history: bool
    #: the server asks for a dialog step (Remix, Custom Zoom, Vary Region's prompt)
    modal_step: bool
    shorten: bool
    #: videos (Animate, Extend, video from a picture), edits and retextures, image files
    #: as links, seeds: midjourney-proxy offers them, OhMyGPT none
    video: bool = False
    edit: bool = False
    upload: bool = False
    seed: bool = False


@dataclass(frozen=True)
class PressOutcome:
    task: Task
    #: the server wants a modal step the caller must fill in (prompt and/or mask)
    modal_required: bool = False
    final_prompt: str = ""


class MjService:
    def __init__(
        self,
        profile: Profile,
        key: Secret | None,
        *,
        history: History,
        images: ImageCache,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        close_history: bool = False,
    ):
        """`close_history`: the service opened the store itself, so closing it is its job
        (the TUI lends its own, which outlives a reconnect with another key)."""
        self.profile = profile
        self.provider: Provider = make_provider(profile, key, transport=transport)
        self.history = history
        # an older store's search index, if opening left it for later (the TUI builds the
        # service in a thread after its first frame: the wait is there, not on screen)
        history.ensure_index()
        self._close_history = close_history
        #: things a person should read that are not errors (a sent task the history could
        #: not record); the CLI prints them, the TUI shows them
        self.notices: list[str] = []
        # paid requests written down before they leave (see journal.py)
        self.journal = Journal(history.path)
        self.images = images
        self.namespace = namespace_for(profile)
        self.poller = Poller(self.provider.fetch_many, stale_after=profile.stale_after, clock=clock)
        self.session_spend = 0
        self._queue: JobQueue | None = None
        #: the callback server, when one listens (see listen)
        self.webhooks: WebhookListener | None = None
        self.callbacks = 0
        #: told of each task a callback brought, once stored (the TUI redraws its row)
        self.on_callback: Callable[[Task], object] | None = None
        self._charged: set[str] = set()
        self._submitted_here: set[str] = set()
        since = time.time() - RESUME_WINDOW
        for task in history.in_flight(self.namespace, since=since):
            self.poller.track(task)

    def __repr__(self) -> str:
        return f"MjService({self.provider!r})"

    async def __aenter__(self) -> MjService:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- what the provider offers ---------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        provider = self.provider
        return Capabilities(
            label=provider.label,
            modes=provider.modes,
            server_history=provider.server_history,
            modal_step=provider.supports_modal,
            shorten=provider.supports_shorten,
            video=provider.supports_video,
            edit=provider.supports_edit,
            upload=provider.supports_upload,
            seed=provider.supports_seed,
        )

    @property
    def modes(self) -> tuple[Mode, ...]:
        return self.provider.modes

    @property
    def default_mode(self) -> Mode:
        return self.profile.default_mode

    @property
    def stale_after(self) -> float:
        """Seconds without progress after which a task looks lost."""
        return self.profile.stale_after

    @property
    def poll_interval(self) -> float:
        return self.profile.poll_interval

    @property
    def page_size(self) -> int:
        return self.profile.tasks_per_page

    @property
    def in_flight(self) -> int:
        """Tasks being followed now (queued or running at the provider)."""
        return len(self.poller)

    @property
    def request_count(self) -> int:
        return self.provider.http.request_count

    def image_key(self, task: Task) -> str:
        """The task's name in the image cache (profile and dialect keep two accounts apart)."""
        return f"{self.profile.name}-{self.profile.provider.value}-{task.id}"

    # -- bookkeeping --------------------------------------------------------------
    def _store(self, tasks: Sequence[Task]) -> list[Task]:
        merged = self.history.upsert(self.namespace, tasks)
        for task in merged:
            self._charge(task)
        return merged

    def _charge(self, task: Task) -> None:
        # OhMyGPT bills on success; count what this session submitted
        if task.status != Status.SUCCESS or task.id in self._charged or task.id not in self._submitted_here:
            return
        self._charged.add(task.id)
        cost = pricing.price(self.profile.provider, task.action, task.mode)
        if cost:
            self.session_spend += cost

    def _placeholder(
        self,
        result: SubmitResult,
        *,
        action: Action,
        prompt: str,
        mode: Mode | None,
        parent: Task | None = None,
        button: Button | None = None,
    ) -> Task:
        task = Task(
            id=result.task_id,
            provider=self.profile.provider,
            action=action,
            status=Status.MODAL if result.modal_required else Status.NOT_START,
            prompt=prompt,
            final_prompt=result.final_prompt or prompt,
            description=result.description,
            submit_time=datetime.now(UTC),
            mode=mode,
            parent_id=parent.id if parent else None,
            origin_custom_id=button.custom_id if button else None,
            # the server's place in its queue, as it said at submit (the first read replaces it)
            raw={"queuedAhead": result.queued_ahead} if result.queued_ahead is not None else {},
        )
        self._submitted_here.add(task.id)
        try:
            (task,) = self._store([task])
        except (HistoryNotWritable, sqlite3.Error, OSError) as exc:
            # sent and paid: the id must reach the person even when the store cannot keep it
            self.notices.append(
                f"Task {clean(task.id)} was sent, but the history could not record it ({exc}). "
                f"Follow it with `mj-tui task {clean(task.id)}`."
            )
        self.poller.track(task)
        return task

    # -- checks before anything is paid for ---------------------------------------
    def plan(self, prompt: str, *, mode: Mode | None = None) -> PromptPlan:
        """The prompts `prompt` sends and the jobs they make; PromptRefused on any error.

        The same check the TUI's prompt box runs: nothing is sent that Midjourney refuses."""
        return plan_prompt(prompt, mode=(mode or self.profile.default_mode).value)

    def check_press(self, button: Button, *, prompt: str | None = None, mask: str | None = None) -> None:
        """Refuse, before anything is sent, a press that cannot succeed: the button's second
        step needs what was not given, or the provider has no such step."""
        kind = button.kind
        if kind == ButtonKind.CUSTOM_ZOOM:
            if not self.provider.supports_modal:
                raise Unsupported(
                    f"{self.provider.label} has no Custom Zoom (it has no dialog step for the --zoom value). "
                    "Zoom Out 2x and 1.5x work."
                )
            if not prompt:
                raise InvalidRequest("Custom Zoom needs a prompt with --zoom 1 to 2, e.g. “a fox --zoom 1.5”.")
        if kind == ButtonKind.VARY_REGION and not mask:
            raise InvalidRequest("Vary (Region) needs a mask: the areas to repaint, in white.")
        if prompt is not None:
            problem = modal_problem(prompt, custom_zoom=kind == ButtonKind.CUSTOM_ZOOM)
            if problem:
                raise PromptRefused(f"Not sent: {problem}", problems=[problem])

    # -- submits (each is sent exactly once) ------------------------------------
    async def _send(
        self,
        action: Action,
        prompt: str,
        mode: Mode | None,
        request: Callable[[], Awaitable[SubmitResult]],
        *,
        ref: str | None = None,
    ) -> SubmitResult:
        """One paid request: journalled before it leaves, never sent twice.

        When its answer never comes back (a dropped connection, a timeout, a garbled or
        5xx answer) the task is looked for (OhMyGPT lists an account's tasks: an imagine is
        found by its prompt and time); else it is kept as unconfirmed and OutcomeUnknown
        says so."""
        # a request that could not be written down is not sent: its task could be lost
        self.history.check_writable()
        try:
            if self.journal.problem:
                raise sqlite3.OperationalError(self.journal.problem)
            entry = self.journal.begin(self.namespace, action.value, prompt, ref=ref)
        except (sqlite3.Error, OSError) as exc:
            raise HistoryNotWritable(
                f"Nothing was sent: the history at {self.history.path} cannot be written ({exc}). "
                "Free some disk space or fix its permissions, then try again."
            ) from None
        try:
            result = await request()
        except MjError as exc:
            if not _may_have_reached(exc):
                self.journal.refused(entry)
                raise
            found = await self._look_for(action, prompt, entry)
            if found is None:
                raise self._unconfirmed(entry, action, prompt, mode, exc) from None
            self.journal.done(entry, found.id)
            return SubmitResult(found.id, description="found at the provider after an unclear answer")
        # the answer is in hand; a row left 'sending' (a full disk) is only looked for later
        with contextlib.suppress(sqlite3.Error, OSError):
            self.journal.done(entry, result.task_id)
        return result

    async def _look_for(self, action: Action, prompt: str, entry: int) -> Task | None:
        """The task an unanswered imagine made, on the server's first page (OhMyGPT)."""
        pending = self.journal.get(entry)
        if pending is None or action != Action.IMAGINE or not self.provider.server_history:
            return None
        try:
            page = await self.provider.list_page(1, 20)
        except MjError:
            return None
        since = pending.started - 120  # the server's clock may differ a little from ours
        candidates = [
            t
            for t in page.tasks
            if t.prompt.strip() == prompt.strip()
            and t.submit_time is not None
            and t.submit_time.timestamp() >= since
            and self.get_cached(t.id) is None  # one we knew before is another send
        ]
        if not candidates:
            return None
        found = min(candidates, key=lambda t: t.submit_time.timestamp() if t.submit_time else 0.0)
        self._submitted_here.add(found.id)
        (found,) = self._store([found])
        self.poller.track(found)
        return found

    def _unconfirmed(
        self, entry: int, action: Action, prompt: str, mode: Mode | None, error: MjError
    ) -> OutcomeUnknown:
        task = Task(
            id=f"unconfirmed-{entry}",
            provider=self.profile.provider,
            action=action,
            status=Status.UNCONFIRMED,
            prompt=prompt,
            final_prompt=prompt,
            description=f"may have reached the provider: {error.message}",
            submit_time=datetime.now(UTC),
            mode=mode,
        )
        (task,) = self._store([task])
        self.journal.unconfirmed(entry, task.id)
        again = "" if "not sent again" in error.message else " It was not sent again."
        return OutcomeUnknown(
            f"{error.message}{again} It is on the list as {task.id} until you check the provider's own list: "
            "send it again, or dismiss it (x; `mj-tui dismiss`).",
            task=task,
            status=error.status,
        )

    def _settle_unconfirmed(self, first_page: Sequence[Task]) -> None:
        """An unconfirmed imagine that shows up on the server's first page (a slow server made
        it after the answer was given up on) is settled: it was sent, once."""
        for pending, unconfirmed_id in self.journal.unresolved(self.namespace):
            if pending.kind != Action.IMAGINE.value:
                continue
            match = next(
                (
                    t
                    for t in first_page
                    if t.prompt.strip() == pending.prompt.strip()
                    and t.submit_time is not None
                    and t.submit_time.timestamp() >= pending.started - 120
                ),
                None,
            )
            stored = self.get_cached(unconfirmed_id)
            if match is None or stored is None or stored.status != Status.UNCONFIRMED:
                continue
            self.journal.done(pending.id, match.id)
            self._store([stored.with_(status=Status.CANCEL, description=f"it was sent: it is task #{match.id}")])

    async def reconcile(self) -> list[Task]:
        """Submits a process left 'sending' (killed while the request was out): found at the
        provider, or kept as unconfirmed. Never resent. Cheap when there are none."""
        settled: list[Task] = []
        # older than any request can take: a process alive now may still be waiting on it
        for pending in self.journal.abandoned(self.namespace, older_than=self.profile.request_timeout + 60):
            action = _action_named(pending.kind)
            found = await self._look_for(action, pending.prompt, pending.id)
            if found is not None:
                self.journal.done(pending.id, found.id)
                settled.append(found)
                continue
            problem = MjError("mj-tui stopped before the provider answered.")
            settled.append(self._unconfirmed(pending.id, action, pending.prompt, None, problem).task)
        return settled

    async def imagine(
        self,
        prompt: str,
        *,
        mode: Mode | None = None,
        images: Sequence[str] = (),
        ref: str | None = None,
        webhook: str | None = None,
    ) -> Task:
        """Send one imagine. `ref` names the sender in the journal (the queue's job);
        `webhook`: a URL the provider calls with the task's progress (else this run's
        callback server's, when one listens)."""
        prompt = prompt.strip()
        if not prompt:
            raise InvalidRequest("The prompt is empty.")
        mode = self.provider.check_mode(mode)
        result = await self._send(
            Action.IMAGINE,
            prompt,
            mode,
            lambda: self.provider.imagine(
                prompt, mode=mode, images=images, webhook=webhook or self.webhook_for("submit")
            ),
            ref=ref,
        )
        return self._placeholder(result, action=Action.IMAGINE, prompt=prompt, mode=mode)

    async def press(
        self,
        parent: Task,
        button: Button,
        *,
        prompt: str | None = None,
        mask: str | None = None,
        auto_modal: bool = True,
        ref: str | None = None,
        webhook: str | None = None,
    ) -> PressOutcome:
        """Press one of a task's buttons, with the parent's mode.

        Vary (Region) needs ``mask`` (white = repaint).  On the proxy dialect a
        modal step follows when the server asks for one: it is sent here when the
        caller gave what it needs (or, for a Remix prompt nobody asked to edit,
        with the server's own prompt when ``auto_modal``); otherwise the outcome
        says it is required. Animate and Extend with a ``prompt`` ask for their Remix dialog
        (the server would otherwise run them on the parent's prompt) and send it there.
        """
        if button.kind == ButtonKind.VARY_REGION and not mask:
            raise InvalidRequest("Vary (Region) needs a mask: select the area to repaint first.")
        if prompt is not None:  # a modal step's prompt is checked before the press is paid for
            self.check_press(button, prompt=prompt, mask=mask)
        # a video's own prompt goes through the Remix dialog: asked for, or it would be dropped
        remix = bool(prompt) and button.kind in (ButtonKind.ANIMATE, ButtonKind.EXTEND) and self.provider.supports_modal
        action = button.makes  # the row reads "reroll" from the start, not "imagine" until done
        base_prompt = parent.final_prompt or parent.prompt
        label = clean(button.display, one_line=True)
        result = await self._send(
            button.makes,
            f"{label} on #{clean(parent.id)}: {base_prompt}",
            parent.mode,
            lambda: self.provider.action(
                parent, button.custom_id, mask=mask, webhook=webhook or self.webhook_for("press"), remix=remix
            ),
            ref=ref,
        )
        task = self._placeholder(
            result, action=action, prompt=base_prompt, mode=parent.mode, parent=parent, button=button
        )
        if not result.modal_required:
            return PressOutcome(task)
        user_input_needed = button.needs_modal and not (prompt or mask)
        if user_input_needed or not auto_modal:
            return PressOutcome(task, modal_required=True, final_prompt=result.final_prompt or base_prompt)
        task = await self.submit_modal(task, prompt or result.final_prompt or base_prompt, mask=mask)
        return PressOutcome(task)

    async def submit_modal(self, task: Task, prompt: str, *, mask: str | None = None) -> Task:
        result = await self._send(
            _action_named(task.action),
            prompt,
            task.mode,
            lambda: self.provider.modal(task.id, prompt=prompt, mask=mask, mode=task.mode),
        )
        if result.modal_required:  # the dialog was sent and the server still waits for it
            raise InvalidRequest(
                f"The provider still waits for the dialog step of task {clean(task.id)} after it was sent: "
                "it will not run. Dismiss it (x; `mj-tui dismiss`) and press the button again."
            )
        updated = task.with_(
            status=Status.SUBMITTED, prompt=prompt, final_prompt=result.final_prompt or prompt, id=result.task_id
        )
        self._submitted_here.add(updated.id)
        (updated,) = self._store([updated])
        self.poller.track(updated)
        return updated

    def dismiss(self, task_id: str) -> Task:
        """Give up, here, on a task that waits for a dialog step nobody will send: it stops
        read "waits for its prompt" (the provider keeps it until it expires)."""
        task = self.get_cached(task_id)
        if task is None:
            raise TaskNotFound(f"Task {clean(task_id)} is not in the local history.")
        if task.status not in (Status.MODAL, Status.UNCONFIRMED):
            raise InvalidRequest(
                f"Task {clean(task_id)} is {task.status.value.lower()}, not waiting for a prompt or unconfirmed: "
                "nothing to dismiss."
            )
        why = "waited for a prompt" if task.status == Status.MODAL else "its request was not confirmed"
        dismissed = task.with_(status=Status.CANCEL, description=f"dismissed in mj-tui ({why})")
        self.poller.untrack(task_id)
        (dismissed,) = self._store([dismissed])
        return dismissed

    async def cancel(self, task_id: str) -> Task:
        """Cancel a task at the provider, where the dialect can (Unsupported or
        PermissionDenied say why not), and read it again."""
        await self.provider.cancel(task_id)
        try:
            return await self.refresh(task_id)
        except MjError:
            cached = self.get_cached(task_id)
            if cached is None:
                raise
            return cached

    async def blend(self, images: Sequence[str], *, dimensions: str = "SQUARE", mode: Mode | None = None) -> Task:
        mode = self.provider.check_mode(mode)
        result = await self._send(
            Action.BLEND,
            f"/blend {len(images)} images",
            mode,
            lambda: self.provider.blend(images, dimensions=dimensions, mode=mode),
        )
        return self._placeholder(result, action=Action.BLEND, prompt=f"/blend {len(images)} images", mode=mode)

    async def describe(self, image: str, *, mode: Mode | None = None) -> Task:
        mode = self.provider.check_mode(mode)
        result = await self._send(Action.DESCRIBE, "/describe", mode, lambda: self.provider.describe(image, mode=mode))
        return self._placeholder(result, action=Action.DESCRIBE, prompt="/describe", mode=mode)

    async def shorten(self, prompt: str, *, mode: Mode | None = None) -> Task:
        mode = self.provider.check_mode(mode)
        result = await self._send(Action.SHORTEN, prompt, mode, lambda: self.provider.shorten(prompt, mode=mode))
        return self._placeholder(result, action=Action.SHORTEN, prompt=prompt, mode=mode)

    # -- video, edit, retexture, uploads, seeds (see media.py) -----------------------
    async def video(
        self,
        picture: Picture,
        *,
        prompt: str = "",
        motion: str = "low",
        end: Picture | None = None,
        loop: bool = False,
        batch: int = 4,
        hd: bool = False,
        mode: Mode | None = None,
        quadrant: int | None = None,
        ref: str | None = None,
        webhook: str | None = None,
    ) -> Task:
        """Send one video job: `picture` (a finished task, with `quadrant` for a grid; an
        image file; or a link) is the first frame; `end` the last, or `loop`; `motion` low
        or high; `batch` 1, 2 or 4 videos; `hd` for 720p. Files become links first where
        the provider uploads. Journalled and never sent twice, like imagine."""
        return await media.video(
            self,
            picture,
            prompt=prompt,
            motion=motion,
            end=end,
            loop=loop,
            batch=batch,
            hd=hd,
            mode=mode,
            quadrant=quadrant,
            ref=ref,
            webhook=webhook,
        )

    async def extend_video(
        self, task: Task, index: int = 1, *, prompt: str = "", motion: str = "low", mode: Mode | None = None
    ) -> Task:
        """Video `index` (1-based) of a finished video task, made longer."""
        return await media.extend(self, task, index, prompt=prompt, motion=motion, mode=mode)

    async def edit(
        self, picture: Picture, prompt: str, *, mode: Mode | None = None, quadrant: int | None = None
    ) -> Task:
        """A new grid: `picture` changed as `prompt` says."""
        return await media.edit(self, picture, prompt, mode=mode, quadrant=quadrant)

    async def retexture(
        self, picture: Picture, prompt: str, *, mode: Mode | None = None, quadrant: int | None = None
    ) -> Task:
        """A new grid: `picture`'s shapes with the surfaces `prompt` describes."""
        return await media.edit(self, picture, prompt, retexture=True, mode=mode, quadrant=quadrant)

    async def upload(self, paths: Sequence[str | Path]) -> list[str]:
        """Image files as links the provider serves, in order."""
        return await media.upload(self, paths)

    async def seed(self, task: Task) -> str:
        """The task's seed (asked once, then stored with the task and written into saves)."""
        return await media.seed(self, task)

    async def save_video(self, task: Task, folder: Path, *, index: int = 1, sidecar: bool = False) -> SavedVideo:
        """Save video `index` of a video task in `folder` (see media.save_video)."""
        return await media.save_video(self, task, folder, index=index, sidecar=sidecar)

    # -- reads --------------------------------------------------------------------
    def cached_page(self, page: int, page_size: int | None = None) -> Page:
        """What the local store has, instantly (first frame, offline)."""
        return store_page(self.history, self.profile, page, page_size)

    @property
    def queue_limit(self) -> int | None:
        return self.profile.queue_limit

    async def page(self, page: int, page_size: int | None = None) -> Page:
        """A page of tasks, newest first, of any size (a list as tall as its pane).

        Where the server keeps the history (OhMyGPT, whose pages hold 5 to 20), a page of
        that size is the server's own; another size is read as the server pages that cover
        it, stored, and served from the store."""
        size = page_size or self.profile.tasks_per_page
        if not self.provider.server_history:
            return self.history.page(self.namespace, page, size)
        if SERVER_PAGE_SIZES[0] <= size <= SERVER_PAGE_SIZES[1]:
            fresh = await self._server_page(page, size)
            return Page(self._store_fresh(fresh, page == 1), fresh.page, fresh.page_size, fresh.total, fresh.skipped)
        per = SERVER_PAGE_SIZES[1]
        first, last = (page - 1) * size, page * size - 1  # the items this page shows
        skipped = 0
        for number in range(first // per + 1, last // per + 2):
            fresh = await self._server_page(number, per)
            self._store_fresh(fresh, number == 1)
            skipped += fresh.skipped
            if number >= fresh.pages:
                break
        cached = store_page(self.history, self.profile, page, size)
        return Page(cached.tasks, cached.page, cached.page_size, cached.total, skipped)

    async def _server_page(self, page: int, size: int) -> Page:
        fresh = await self.provider.list_page(page, size)
        self.history.set_meta(self.namespace, "server_total", str(fresh.total))
        return fresh

    def _store_fresh(self, fresh: Page, first_page: bool) -> list[Task]:
        tasks = self._store(fresh.tasks)
        if first_page:
            self._settle_unconfirmed(tasks)
        for task in tasks:
            if task.status.in_flight and task.id not in self.poller.in_flight:
                self.poller.track(task)
        return tasks

    def get_cached(self, task_id: str) -> Task | None:
        return self.history.get(self.namespace, task_id)

    def stored_count(self) -> int:
        """How many tasks this profile's local history holds (no request)."""
        return self.history.count(self.namespace)

    def page_of(self, task_id: str, page_size: int | None = None) -> int | None:
        """The page (of that size, else the profile's) the task is on, newest first; None if unknown."""
        position = self.history.position(self.namespace, task_id)
        return None if position is None else position // (page_size or self.profile.tasks_per_page) + 1

    async def refresh(self, task_id: str) -> Task:
        task = await self.provider.fetch(task_id)
        if task.id != task_id:  # a confused gateway: never file one task's state under another
            raise MalformedResponse(f"Asked the provider for task {task_id} and it answered with another task.")
        (task,) = self._store([task])
        if task.status.in_flight:
            self.poller.track(task)
        else:
            self.poller.untrack(task.id)
        return task

    async def refresh_unfinished(self, tasks: Sequence[Task]) -> list[Task]:
        """`tasks` with the unfinished ones asked about again (one request): a list shown by a
        script must not say "running 0%" forever after a run that was killed."""
        unfinished = [t.id for t in tasks if t.status.in_flight]
        if not unfinished:
            return list(tasks)
        fresh = {t.id: t for t in self._store(await self.provider.fetch_many(unfinished))}
        for task in fresh.values():
            if task.status.in_flight:
                self.poller.track(task)
            else:
                self.poller.untrack(task.id)
        return [fresh.get(t.id, t) for t in tasks]

    async def poll(self) -> PollResult:
        result = await self.poller.tick()
        if result.updated or result.finished or result.modal:
            seen: dict[str, Task] = {}
            for task in [*result.updated, *result.finished, *result.modal]:
                seen[task.id] = task
            merged = {t.id: t for t in self._store(list(seen.values()))}
            result.updated = [merged[t.id] for t in result.updated]
            result.finished = [merged[t.id] for t in result.finished]
            result.modal = [merged[t.id] for t in result.modal]
        return result

    async def wait(
        self,
        task_id: str,
        *,
        on_update: Callable[[Task], Awaitable[None] | None] | None = None,
        on_stale: Callable[[Task], object] | None = None,
        timeout: float = DEFAULT_WAIT,
    ) -> Task:
        """Poll until the task finishes or needs a modal step (CLI ``--wait``).

        A failed read (a dropped connection, a truncated answer, a 5xx) is tried again at the
        next tick: only the deadline ends the wait, with a message that the job may still
        finish (a script that resubmitted on a read error would pay twice). `on_stale` hears
        once when the task has not moved for the profile's stale time."""
        deadline = time.monotonic() + timeout
        last_error: MjError | None = None
        task = self.get_cached(task_id)
        while task is None:
            try:
                task = await self.refresh(task_id)
            except MjError as exc:
                if not _transient(exc) or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(self.profile.poll_interval)
        if task.status.in_flight:
            self.poller.track(task)
        while task.status.in_flight:
            try:
                result = await self.poll()
                last_error = None
            except MjError as exc:
                if not _transient(exc):
                    raise
                last_error = exc
                result = PollResult()
            for fresh in [*result.updated, *result.finished, *result.modal]:
                if fresh.id == task_id:
                    task = fresh
                    if on_update:
                        maybe = on_update(task)
                        if asyncio.iscoroutine(maybe):
                            await maybe
            if on_stale is not None and any(t.id == task_id for t in result.stale):
                on_stale(task)
            if task_id not in self.poller.in_flight and task.status.in_flight and last_error is None:
                task = await self.refresh(task_id)
            if not task.status.in_flight:
                break
            if time.monotonic() > deadline:
                why = f" The last read failed: {last_error.message}" if last_error else ""
                raise RequestTimeout(
                    f"Task {clean(task_id)} did not finish within {timeout:.0f}s; it may still finish. "
                    f"Follow it with `mj-tui task {clean(task_id)} --wait`.{why}"
                )
            await asyncio.sleep(self.profile.poll_interval)
        return task

    async def fetch_image(self, task: Task) -> Path:
        """The task's original image on disk, downloaded once (no key is sent with it)."""

        key = self.image_key(task)
        # the first check of a key verifies the file: keep that off the event loop
        cached = await asyncio.to_thread(self.images.cached, key)
        if cached:
            return cached
        if task.status != Status.SUCCESS or not task.image_urls:
            raise ImageError("This task has no finished image yet.")
        return await self.images.fetch(self.provider.http.download, key, task.image_urls)

    def preview(self, task: Task, max_width: int, max_height: int, *, quadrant: int | None = None) -> Image.Image:
        """The downloaded image (or a quadrant) scaled to fit the box. Blocking: call it in a thread."""
        return self.images.preview(self.image_key(task), max_width, max_height, quadrant=quadrant)

    # -- saving pictures, each with its story written in ------------------------------
    def export_name(self, task: Task, quadrant: int | None = None) -> str:
        """The file name a save of this picture gets (before " (2)" for a name taken); its
        extension follows the cached original's format (a few bytes read, no decode)."""
        ext = self.images.saved_kind(self.image_key(task), quadrant=quadrant)
        return safe_filename(task.id, task.prompt or task.final_prompt, quadrant=quadrant, ext=ext)

    def story(self, task: Task, quadrant: int | None = None) -> Story:
        """What a saved file of this task carries: prompt, parameters, ids, times (no request)."""
        return story_of(task, profile=self.profile.name, quadrant=quadrant)

    async def export(self, task: Task, folder: Path, *, quadrant: int | None = None, sidecar: bool = False) -> Path:
        """Save the task's image (or one quadrant, at full size) as a new file in `folder`,
        its story written in (and beside it as ``<name>.json`` with `sidecar`)."""
        if quadrant is not None and not task.is_grid:
            raise InvalidRequest(f"Task {task.id} is not a grid: it has no quadrant {quadrant} to save.")
        await self.fetch_image(task)

        def save() -> Path:  # decoding, cropping and writing a full-size picture: off the event loop
            name = self.export_name(task, quadrant)
            story = self.story(task, quadrant)
            return self.images.export(
                self.image_key(task), folder, name, quadrant=quadrant, story=story, sidecar=sidecar
            )

        return await asyncio.to_thread(save)

    async def export_many(
        self,
        tasks: Iterable[Task] | AsyncIterable[Task],
        folder: Path,
        *,
        upscales_only: bool = False,
        quadrants: bool = False,
        sidecar: bool = False,
        on_progress: Callable[[ExportProgress], None] | None = None,
        total: int | None = None,
    ) -> ExportReport:
        """Save many tasks' pictures into `folder` as ``{date}-{slug}-{id}.{ext}``: resumable
        (what is there is skipped), cached images never fetched again, the rest fetched a few
        at a time; what could not be fetched is in the report. FolderError before anything is
        fetched when the folder cannot take files. `total`: how many tasks a stream brings,
        for the progress, when the caller knows. See :mod:`mj_tui.core.exporting`."""
        return await export_many(
            self,
            tasks,
            folder,
            upscales_only=upscales_only,
            quadrants=quadrants,
            sidecar=sidecar,
            on_progress=on_progress,
            total=total,
        )

    # -- the library: search, stars, tags, sync -----------------------------------
    def search(self, query: str, page: int = 1, page_size: int | None = None) -> Page:
        """Stored tasks matching a query (search.py's language), newest first.

        QueryError (with the culprit's start and end in the query) for one that cannot be
        read; HistoryError when the store cannot be read just now."""
        parsed = parse_query(query, profile=self.profile.name)
        return self.history.search(self.namespace, parsed, page, page_size or self.profile.tasks_per_page)

    def complete_term(self, query: str, cursor: int | None = None) -> list[str]:
        """Completions for the search term at `cursor` (the end when None), tags included."""
        tags = [name for name, _ in self.history.tag_names(self.namespace)]
        return _complete_term(query, len(query) if cursor is None else cursor, tags, profile=self.profile.name)

    def star(self, task_id: str, on: bool = True) -> Task:
        """Star (or unstar) a task in the local history; TaskNotFound when it is not there."""
        return self.history.set_starred(self.namespace, task_id, on)

    def tag(self, task_id: str, name: str) -> Task:
        """Tag a task (a name as typed: "#Food" is stored as "food"); QueryError for a bad name."""
        return self.history.add_tag(self.namespace, task_id, name)

    def untag(self, task_id: str, name: str) -> Task:
        return self.history.remove_tag(self.namespace, task_id, name)

    def tag_names(self) -> list[tuple[str, int]]:
        """Every tag in use, with how many tasks carry it."""
        return self.history.tag_names(self.namespace)

    async def sync(self, on_progress: OnProgress | None = None, max_pages: int | None = None) -> SyncResult:
        """Bring the provider's history into the local store (see sync.py); never a paid request.

        OhMyGPT: its pages, newest first, until what the store has (resuming a walk cut
        short). midjourney-proxy: the unfinished tasks in the store, asked about in batches.
        `on_progress` hears a SyncProgress after each request; `max_pages` bounds them."""

        def store(tasks: Sequence[Task]) -> list[Task]:
            merged = self._store(tasks)
            for task in merged:
                if task.status.in_flight and task.id not in self.poller.in_flight:
                    self.poller.track(task)
                elif not task.status.in_flight:
                    self.poller.untrack(task.id)
            return merged

        walk = walk_server_history if self.provider.server_history else refresh_local_history
        result = await walk(
            self.provider, self.history, self.namespace, store, on_progress=on_progress, max_pages=max_pages
        )
        if self.provider.server_history and result.total is not None:
            self.history.set_meta(self.namespace, "server_total", str(result.total))
        return result

    async def balance(self) -> Balance | None:
        return await self.provider.balance()

    def price(self, action: str, mode: Mode | None, jobs: int = 1) -> int | None:
        return pricing.price(self.profile.provider, action, mode, jobs)

    def price_text(self, action: str, mode: Mode | None, jobs: int = 1) -> str:
        return pricing.price_text(self.profile.provider, action, mode, jobs)

    # -- callbacks (webhooks) ---------------------------------------------------------
    async def listen(self, host: str, port: int, *, public_url: str | None = None) -> WebhookListener:
        """Take the provider's callbacks on HOST:PORT from now on (ListenError when it cannot):
        each delivered task is stored as a poll's would be, and polling slows down while
        callbacks flow (it stays on: a callback may never come)."""
        from .webhooks import WebhookListener

        listener = WebhookListener(
            host, port, parse=self.provider.parse_callback, on_task=self._called_back, public_url=public_url
        )
        await listener.start()
        self.webhooks = listener
        return listener

    def webhook_for(self, name: str) -> str | None:
        """The callback URL for one submit (None when nothing listens)."""
        return self.webhooks.url_for(name) if self.webhooks is not None else None

    def _called_back(self, name: str, task: Task) -> None:
        known = self.get_cached(task.id)
        if known is None:
            return  # not a task this profile sent or knows: nothing to update
        (stored,) = self._store([task])
        if stored.status.in_flight:
            self.poller.track(stored)
        else:
            self.poller.untrack(stored.id)  # told once: by this callback, not by a poll as well
        self.callbacks += 1
        if self.on_callback is not None:
            self.on_callback(stored)

    @property
    def poll_every(self) -> float:
        """Seconds between polls: the profile's, four times that while callbacks arrive."""
        return self.profile.poll_interval * (4 if self.callbacks else 1)

    @property
    def job_queue(self) -> JobQueue:
        """The local job queue, in the history's file (opened on first use)."""
        if self._queue is None:
            self._queue = JobQueue(self.history.path)
        return self._queue

    async def aclose(self) -> None:
        """Close the provider's connections, the journal and the queue, and the history
        when the service opened it."""
        try:
            if self.webhooks is not None:
                await self.webhooks.aclose()
            await self.provider.aclose()
        finally:
            self.journal.close()
            if self._queue is not None:
                self._queue.close()
            if self._close_history:
                self.history.close()


def _action_named(name: str) -> Action:
    parsed = Action.parse(name)
    return parsed if isinstance(parsed, Action) else Action.ACTION


def _may_have_reached(error: MjError) -> bool:
    """Whether a failed submit may still have made a task: the HTTP layer says so when no
    answer came (a drop, a timeout, a 500/502/504), and an answer that could not be read
    may have been a success. A clear refusal (a 4xx, a known error code) made nothing;
    neither did a connection that was never opened."""
    return error.outcome_unknown or isinstance(error, MalformedResponse)


def _transient(error: MjError) -> bool:
    """A read that may well work next time: the network, the server, a garbled answer."""
    return error.retryable or isinstance(error, MalformedResponse)


__all__ = [
    "ExportProgress",
    "ExportReport",
    "MjService",
    "PollResult",
    "PressOutcome",
    "SavedVideo",
    "SyncProgress",
    "SyncResult",
    "TaskNotFound",
]
