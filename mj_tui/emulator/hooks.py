"""Callbacks: a task submitted with a callback URL (OhMyGPT's `webhook`, midjourney-proxy's
`notifyHook`) has its JSON POSTed there each time its status or progress changes.

The engine runs nothing in the background (state is read off the clock), so a watcher
task looks at the hooked tasks a few times a second and queues a delivery whenever what
a fetch would show has changed. Each task has one sender, so its deliveries arrive in
order; a failed one (no connection, a non-2xx answer, too slow) is tried again with
backoff. None of it runs on a request's path, and no URL, however broken, can stop the
emulator: what happened is recorded for GET /_emulator/hooks instead.

The body is what the dialect's own fetch shows for the task: midjourney-proxy's Task
object, and for OhMyGPT the bare task object its query puts in `data`, with no envelope
(OhMyGPT's receivers read the task fields straight off the body).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict
from urllib.parse import urlsplit

import httpx

from .engine import Engine
from .model import Task

#: how often the watcher looks at the hooked tasks
TICK = 0.05
#: deliveries kept for /_emulator/hooks (the oldest go first)
KEPT = 2000

# A dialect's task JSON, as its fetch answers it: (engine, task, base URL) -> body.
Render = Callable[[Engine, Task, str], object]


class DeliveryJSON(TypedDict):
    url: str  # without its query string
    dialect: str
    taskId: str
    taskStatus: str
    progress: int
    attempts: int
    httpStatus: int | None  # of the last attempt; None when no answer came
    delivered: bool
    error: str


@dataclass
class _Watch:
    task: Task
    base: str
    url: str
    last: tuple[str, int] | None = None
    queue: asyncio.Queue[tuple[object, str, int] | None] = field(default_factory=asyncio.Queue)


def without_query(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else "(not a URL)"
    except ValueError:
        return "(not a URL)"


class Hooks:
    def __init__(self, engine: Engine, render: dict[str, Render]) -> None:
        self.engine = engine
        self._render = render
        self._watched: list[_Watch] = []
        self._watcher: asyncio.Task[None] | None = None
        self._senders: set[asyncio.Task[None]] = set()
        self.deliveries: deque[DeliveryJSON] = deque(maxlen=KEPT)

    @property
    def watching(self) -> int:
        return len(self._watched)

    def take(self, base: str) -> None:
        """Start watching the tasks submitted with a callback since the last call. Called
        from a request handler, in the server's event loop; `base` is that request's base
        URL, from which the task's image links are made."""
        with self.engine.lock:
            fresh, self.engine.hooked = self.engine.hooked, []
        if not fresh:
            return
        loop = asyncio.get_running_loop()
        for task in fresh:
            watch = _Watch(task, base, task.webhook or "")
            self._watched.append(watch)
            sender = loop.create_task(self._send_all(watch))
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        if self._watcher is None or self._watcher.done() or self._watcher.get_loop() is not loop:
            self._watcher = loop.create_task(self._watch())

    async def _watch(self) -> None:
        while self._watched:
            self._tick()
            await asyncio.sleep(TICK)

    def _tick(self) -> None:
        engine = self.engine
        with engine.lock:
            now = engine.clock.now()
            for watch in list(self._watched):
                view = engine.view(watch.task, now)
                seen = (view.status, view.progress)
                if seen != watch.last:
                    watch.last = seen
                    try:
                        body = self._render[watch.task.dialect](engine, watch.task, watch.base)
                    except Exception:  # a task it cannot show: stop watching it, keep the rest
                        watch.queue.put_nowait(None)
                        self._watched.remove(watch)
                        continue
                    watch.queue.put_nowait((body, view.status, view.progress))
                if view.finished:
                    watch.queue.put_nowait(None)
                    self._watched.remove(watch)

    async def _send_all(self, watch: _Watch) -> None:
        cfg = self.engine.config
        # no proxy from the environment and no redirects: the hook URL is the one place it goes
        async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:
            while (item := await watch.queue.get()) is not None:
                body, status, progress = item
                record: DeliveryJSON = {
                    "url": without_query(watch.url),
                    "dialect": watch.task.dialect,
                    "taskId": watch.task.id,
                    "taskStatus": status,
                    "progress": progress,
                    "attempts": 0,
                    "httpStatus": None,
                    "delivered": False,
                    "error": "",
                }
                await self._deliver(client, watch.url, body, record, cfg.hook_attempts, cfg.hook_timeout)
                self.deliveries.append(record)

    async def _deliver(
        self, client: httpx.AsyncClient, url: str, body: object, record: DeliveryJSON, attempts: int, timeout: float
    ) -> None:
        backoff = max(0.0, float(self.engine.config.hook_backoff))
        for attempt in range(1, max(1, attempts) + 1):
            if attempt > 1:
                await asyncio.sleep(backoff * 2 ** (attempt - 2))
            record["attempts"] = attempt
            try:
                async with asyncio.timeout(timeout):
                    response = await client.post(url, json=body)
                    await response.aread()
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
                record["error"] = f"not a usable URL: {type(exc).__name__}"
                return  # trying again cannot help
            except (TimeoutError, httpx.HTTPError, OSError) as exc:
                record["httpStatus"] = None
                record["error"] = type(exc).__name__
                continue
            record["httpStatus"] = response.status_code
            if 200 <= response.status_code < 300:
                record["delivered"], record["error"] = True, ""
                return
            record["error"] = f"HTTP {response.status_code}"

    async def aclose(self) -> None:
        """Stop watching and sending (what was not delivered is dropped)."""
        tasks = [t for t in (self._watcher, *self._senders) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._watched.clear()
