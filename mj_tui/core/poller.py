"""Follows in-flight tasks: one request per tick for all of them, none when idle."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from .models import Status, Task


@dataclass
class _Track:
    task: Task
    last_change: float
    stale_reported: bool = False


@dataclass
class PollResult:
    updated: list[Task] = field(default_factory=list)  # state or progress changed
    finished: list[Task] = field(default_factory=list)  # reached SUCCESS / FAILURE / CANCEL
    modal: list[Task] = field(default_factory=list)  # now waiting for a modal step
    stale: list[Task] = field(default_factory=list)  # no progress for stale_after seconds
    requests: int = 0


class Poller:
    def __init__(
        self,
        fetch_many: Callable[[Sequence[str]], Awaitable[list[Task]]],
        *,
        stale_after: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._fetch_many = fetch_many
        self.stale_after = stale_after
        self._clock = clock
        self._tracks: dict[str, _Track] = {}

    @property
    def in_flight(self) -> list[str]:
        return list(self._tracks)

    def __len__(self) -> int:
        return len(self._tracks)

    def track(self, task: Task) -> None:
        if task.status.in_flight:
            self._tracks[task.id] = _Track(task, self._clock())

    def untrack(self, task_id: str) -> None:
        self._tracks.pop(task_id, None)

    async def tick(self) -> PollResult:
        result = PollResult()
        if not self._tracks:
            return result  # nothing in flight: no request at all
        ids = list(self._tracks)
        # one batch request per tick; a task it does not return (a gateway that has
        # not seen it yet, or an OhMyGPT page the provider reads on a later tick)
        # simply keeps its last state until then
        result.requests += 1
        fresh = {t.id: t for t in await self._fetch_many(ids)}
        now = self._clock()
        for task_id, task in fresh.items():
            track = self._tracks.get(task_id)
            if track is None:
                continue
            old = track.task
            changed = (task.status, task.progress, task.image_url) != (old.status, old.progress, old.image_url)
            if changed:
                track.task, track.last_change, track.stale_reported = task, now, False
                result.updated.append(task)
            if task.status.is_terminal:
                result.finished.append(task)
                self.untrack(task_id)
            elif task.status == Status.MODAL:
                result.modal.append(task)
                self.untrack(task_id)
        for track in self._tracks.values():
            if not track.stale_reported and now - track.last_change >= self.stale_after:
                track.stale_reported = True
                result.stale.append(track.task)
        return result
