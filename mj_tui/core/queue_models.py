"""What the job queue holds: a job's states and kinds, batches and their follow-ups.

Plain values, no storage: :mod:`mj_tui.core.queue` keeps them in SQLite, the runner and
the screens read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SUBMITTED = "submitted"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def active(self) -> bool:
        """Holding a slot at the provider (or about to)."""
        return self in (JobState.SENDING, JobState.SUBMITTED, JobState.RUNNING)

    @property
    def settled(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


ACTIVE = tuple(s.value for s in JobState if s.active)


class JobKind(StrEnum):
    IMAGINE = "imagine"
    UPSCALE = "upscale"  # a follow-up: U<detail> of the parent grid
    SAVE = "save"  # a follow-up: the parent task's picture into the folder <detail>

    @property
    def paid(self) -> bool:
        return self != JobKind.SAVE


@dataclass(frozen=True)
class FollowUps:
    """What the queue does by itself after each of a batch's jobs is done."""

    #: quadrants to upscale of every grid the batch makes (1-4)
    upscale: tuple[int, ...] = ()
    #: a folder every finished picture of the batch is saved into, its story written in
    save_to: str | None = None

    def to_json(self) -> str:
        return json.dumps({"upscale": list(self.upscale), "save_to": self.save_to})

    @classmethod
    def from_json(cls, text: str) -> FollowUps:
        try:
            data = json.loads(text or "{}")
            upscale = tuple(int(q) for q in data.get("upscale") or () if 1 <= int(q) <= 4)
            save_to = data.get("save_to")
            return cls(upscale, str(save_to) if save_to else None)
        except (ValueError, TypeError, AttributeError):
            return cls()

    def describe(self) -> str:
        parts = []
        if self.upscale:
            parts.append("upscale " + ",".join(f"U{q}" for q in self.upscale))
        if self.save_to:
            parts.append(f"save to {self.save_to}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Batch:
    id: int
    name: str
    source: str
    created: float
    cap: float | None
    follow_ups: FollowUps


@dataclass(frozen=True)
class NewJob:
    """A job as a source hands it in (the composer, a prompt file, a follow-up)."""

    prompt: str
    kind: JobKind = JobKind.IMAGINE
    mode: str | None = None
    images: tuple[str, ...] = ()
    cost: float | None = None
    line: int | None = None
    parent_job: int | None = None
    parent_task: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Job:
    id: int
    batch: int
    position: float
    kind: JobKind
    prompt: str
    mode: str | None
    images: tuple[str, ...]
    parent_job: int | None
    parent_task: str | None
    detail: str
    line: int | None
    state: JobState
    task_id: str | None
    cost: float | None
    error: str
    created: float
    sent: float | None
    finished: float | None
    owner: str
    lease_until: float | None

    @property
    def ref(self) -> str:
        """The job's name in the submit journal."""
        return f"job:{self.id}"

    @property
    def label(self) -> str:
        """One line a person recognises the job by."""
        return self.prompt


@dataclass(frozen=True)
class Spend:
    """Money (or tokens) spent and committed, against the caps in force."""

    #: finished jobs' cost today (local time)
    today: float
    #: the cost of jobs holding a slot now (billed if they succeed)
    committed: float
    daily_cap: float | None


@dataclass
class Claim:
    """What a try to take the next job found."""

    job: Job | None = None
    #: why nothing was taken though jobs wait ("" when the queue is simply empty or full)
    held: str = ""
    #: jobs skipped because their batch's cap would be passed
    capped: list[int] = field(default_factory=list)


class QueueError(Exception):
    """The queue's store cannot be read or written (a locked, damaged or full disk)."""


ACTIVE_STATES = (JobState.SENDING, JobState.SUBMITTED, JobState.RUNNING)
