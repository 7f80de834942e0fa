"""The facade the TUI and the CLI drive: provider + history + poller + images.

Nothing here knows about a screen.  Every method either returns normalized
data or raises an :class:`~mj_tui.core.errors.MjError`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from . import pricing
from .config import Profile
from .credentials import Secret
from .errors import InvalidRequest, TaskNotFound
from .history import History, namespace_for, store_page
from .images import ImageCache
from .models import Balance, Button, ButtonKind, Mode, Page, Status, SubmitResult, Task
from .poller import Poller, PollResult
from .providers import Provider, make_provider

# resume polling tasks left unfinished by an earlier run, if they are this recent
RESUME_WINDOW = 6 * 3600


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
    ):
        self.profile = profile
        self.provider: Provider = make_provider(profile, key, transport=transport)
        self.history = history
        self.images = images
        self.namespace = namespace_for(profile)
        self.poller = Poller(self.provider.fetch_many, stale_after=profile.stale_after, clock=clock)
        self.session_spend = 0
        self._charged: set[str] = set()
        self._submitted_here: set[str] = set()
        since = time.time() - RESUME_WINDOW
        for task in history.in_flight(self.namespace, since=since):
            self.poller.track(task)

    def __repr__(self) -> str:
        return f"MjService({self.provider!r})"

    @property
    def modes(self) -> tuple[Mode, ...]:
        return self.provider.modes

    @property
    def request_count(self) -> int:
        return self.provider.http.request_count

    def image_key(self, task: Task) -> str:
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
        action: str,
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
        )
        self._submitted_here.add(task.id)
        (task,) = self._store([task])
        self.poller.track(task)
        return task

    # -- submits (each is sent exactly once) ------------------------------------
    async def imagine(self, prompt: str, *, mode: Mode | None = None, images: Sequence[str] = ()) -> Task:
        prompt = prompt.strip()
        if not prompt:
            raise InvalidRequest("The prompt is empty.")
        mode = self.provider.check_mode(mode)
        result = await self.provider.imagine(prompt, mode=mode, images=images)
        return self._placeholder(result, action="IMAGINE", prompt=prompt, mode=mode)

    async def press(
        self,
        parent: Task,
        button: Button,
        *,
        prompt: str | None = None,
        mask: str | None = None,
        auto_modal: bool = True,
    ) -> PressOutcome:
        """Press one of a task's buttons, with the parent's mode.

        Vary (Region) needs ``mask`` (white = repaint).  On the proxy dialect a
        modal step follows when the server asks for one: it is sent here when the
        caller gave what it needs (or, for a Remix prompt nobody asked to edit,
        with the server's own prompt when ``auto_modal``); otherwise the outcome
        says it is required.
        """
        if button.kind == ButtonKind.VARY_REGION and not mask:
            raise InvalidRequest("Vary (Region) needs a mask: select the area to repaint first.")
        action = pricing.action_for_button(button) or "ACTION"
        base_prompt = parent.final_prompt or parent.prompt
        result = await self.provider.action(parent, button.custom_id, mask=mask)
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
        result = await self.provider.modal(task.id, prompt=prompt, mask=mask, mode=task.mode)
        updated = task.with_(
            status=Status.SUBMITTED, prompt=prompt, final_prompt=result.final_prompt or prompt, id=result.task_id
        )
        self._submitted_here.add(updated.id)
        (updated,) = self._store([updated])
        self.poller.track(updated)
        return updated

    async def blend(self, images: Sequence[str], *, dimensions: str = "SQUARE", mode: Mode | None = None) -> Task:
        mode = self.provider.check_mode(mode)
        result = await self.provider.blend(images, dimensions=dimensions, mode=mode)
        return self._placeholder(result, action="BLEND", prompt=f"/blend {len(images)} images", mode=mode)

    async def describe(self, image: str, *, mode: Mode | None = None) -> Task:
        mode = self.provider.check_mode(mode)
        result = await self.provider.describe(image, mode=mode)
        return self._placeholder(result, action="DESCRIBE", prompt="/describe", mode=mode)

    async def shorten(self, prompt: str, *, mode: Mode | None = None) -> Task:
        mode = self.provider.check_mode(mode)
        result = await self.provider.shorten(prompt, mode=mode)
        return self._placeholder(result, action="SHORTEN", prompt=prompt, mode=mode)

    # -- reads --------------------------------------------------------------------
    def cached_page(self, page: int, page_size: int | None = None) -> Page:
        """What the local store has, instantly (first frame, offline)."""
        return store_page(self.history, self.profile, page, page_size)

    @property
    def queue_limit(self) -> int | None:
        return self.profile.queue_limit

    async def page(self, page: int, page_size: int | None = None) -> Page:
        size = page_size or self.profile.page_size
        if not self.provider.server_history:
            return self.history.page(self.namespace, page, size)
        fresh = await self.provider.list_page(page, size)
        tasks = self._store(fresh.tasks)
        self.history.set_meta(self.namespace, "server_total", str(fresh.total))
        for task in tasks:
            if task.status.in_flight and task.id not in self.poller.in_flight:
                self.poller.track(task)
        return Page(tasks, fresh.page, fresh.page_size, fresh.total)

    def get_cached(self, task_id: str) -> Task | None:
        return self.history.get(self.namespace, task_id)

    async def refresh(self, task_id: str) -> Task:
        task = await self.provider.fetch(task_id)
        (task,) = self._store([task])
        if task.status.in_flight:
            self.poller.track(task)
        else:
            self.poller.untrack(task.id)
        return task

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
        timeout: float | None = None,
    ) -> Task:
        """Poll until the task finishes or needs a modal step (CLI ``--wait``)."""
        deadline = time.monotonic() + timeout if timeout else None
        task = self.get_cached(task_id) or await self.refresh(task_id)
        if task.status.in_flight:
            self.poller.track(task)
        while task.status.in_flight:
            result = await self.poll()
            for fresh in [*result.updated, *result.finished, *result.modal]:
                if fresh.id == task_id:
                    task = fresh
                    if on_update:
                        maybe = on_update(task)
                        if asyncio.iscoroutine(maybe):
                            await maybe
            if task_id not in self.poller.in_flight and task.status.in_flight:
                task = await self.refresh(task_id)
            if not task.status.in_flight:
                break
            if deadline and time.monotonic() > deadline:
                from .errors import RequestTimeout

                raise RequestTimeout(f"Task {task_id} did not finish within {timeout:.0f}s; it is still running.")
            await asyncio.sleep(self.profile.poll_interval)
        return task

    async def fetch_image(self, task: Task) -> Path:
        from .errors import ImageError

        key = self.image_key(task)
        # the first check of a key verifies the file: keep that off the event loop
        cached = await asyncio.to_thread(self.images.cached, key)
        if cached:
            return cached
        if task.status != Status.SUCCESS or not task.image_urls:
            raise ImageError("This task has no finished image yet.")
        return await self.images.fetch(self.provider.http.download, key, task.image_urls)

    async def balance(self) -> Balance | None:
        return await self.provider.balance()

    def price(self, action: str, mode: Mode | None) -> int | None:
        return pricing.price(self.profile.provider, action, mode)

    async def aclose(self) -> None:
        await self.provider.aclose()


__all__ = ["MjService", "PollResult", "PressOutcome", "TaskNotFound"]
