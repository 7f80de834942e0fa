"""Feeds the queue's jobs to the provider as slots free up, and follows them to the end.

One :meth:`QueueRunner.step` does everything once, quickly, and is safe to call at any
time from the TUI's poll tick or the CLI's loop:

1. jobs left ``sending`` by a process that died are settled from the submit journal: a
   request that never left goes back to the queue; one that was answered is followed;
   one whose answer never came is ``unknown`` (OhMyGPT's list is searched first) and
   waits for a person. Nothing is ever sent again by the queue itself;
2. jobs out at the provider follow their tasks (the poller keeps the history fresh);
   a finished one queues its batch's follow-ups in the same commit;
3. free jobs (saving a picture) run;
4. paid jobs are taken and sent, one request at a time, while a slot is free and the
   caps allow. A clear refusal that made nothing (queue full, 429, the network down)
   puts the job back at the head of the queue and waits a little; a refusal that would
   refuse every job (the key, the balance, a store that cannot be written) pauses the
   queue with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import pricing
from .errors import (
    AuthError,
    HistoryNotWritable,
    InsufficientBalance,
    MjError,
    OutcomeUnknown,
    PermissionDenied,
    QueueFull,
    RateLimited,
    Unsupported,
)
from .models import Action, ButtonKind, Mode, Status, Task
from .prompt_file import PromptFile
from .queue import ACTIVE_STATES, Claim, FollowUps, Job, JobKind, JobQueue, JobState, NewJob, QueueError
from .service import RESUME_WINDOW, MjService
from .text import clean

#: jobs at once where the profile sets no queue_limit (midjourney-proxy's usual core size)
DEFAULT_LIMIT = 3
#: how long a refusal that made nothing (queue full, rate limit, network) holds the queue
BACKOFF_FIRST, BACKOFF_MAX = 5.0, 120.0
#: how long a limit learned from "queue full" holds before the profile's is tried again
LEARNED_FOR = 300.0
#: how often OhMyGPT's first page is read while jobs are unknown (to find late tasks)
LIST_EVERY = 30.0

OnEvent = Callable[["QueueEvent"], object]


@dataclass(frozen=True)
class QueueEvent:
    """A job changed state (the CLI prints one line per event; the TUI redraws the job)."""

    job: Job
    message: str = ""


@dataclass
class QueueSummary:
    """The queue at a glance: what the TUI's header and the CLI's status line show."""

    counts: dict[JobState, int]
    limit: int
    paused: str | None
    held: str
    spent_today: float
    committed: float
    daily_cap: float | None
    unit: str
    #: median seconds from send to done of the latest jobs (None before any finished)
    typical: float | None
    waiting_on: str = ""

    @property
    def queued(self) -> int:
        return self.counts[JobState.QUEUED]

    @property
    def out(self) -> int:
        return sum(self.counts[s] for s in ACTIVE_STATES)

    @property
    def busy(self) -> bool:
        """Work is left that the queue will do by itself."""
        return self.queued + self.out > 0


@dataclass
class StepReport:
    events: list[QueueEvent] = field(default_factory=list)
    sent: int = 0


class QueueRunner:
    """The queue of one profile, driven over one service (see the module's docstring)."""

    def __init__(self, service: MjService, queue: JobQueue, *, on_event: OnEvent | None = None):
        self.service = service
        self.queue = queue
        self.on_event = on_event
        self.profile = service.profile
        self.namespace = service.namespace
        #: only this batch's jobs are taken (``mj-tui batch``); None: every job
        self.only_batch: int | None = None
        self._learned_limit: int | None = None
        self._learned_at = 0.0
        self._looked_at_list = 0.0
        self._not_before = 0.0
        self._backoff = BACKOFF_FIRST
        self.held = ""
        self.waiting_on = ""
        self._lock = asyncio.Lock()

    # -- what it is doing ------------------------------------------------------------
    @property
    def limit(self) -> int:
        """Jobs at the provider at once: what the server's "queue full" said, else the
        profile's queue_limit, else 3."""
        configured = self.profile.queue_limit or DEFAULT_LIMIT
        if self._learned_limit and time.monotonic() - self._learned_at > LEARNED_FOR:
            # a limit learned from one busy moment (a job sent from elsewhere held a slot)
            # is tried again now and then; the server's next "queue full" teaches it anew
            self._learned_limit = None
        return min(configured, self._learned_limit) if self._learned_limit else configured

    def learn_limit(self, limit: int | None) -> None:
        """A "queue full" heard elsewhere (the prompt box) named the provider's limit."""
        if limit:
            self._learned_limit, self._learned_at = limit, time.monotonic()

    def amount(self, value: float) -> str:
        return pricing.amount_text(self.profile, value)

    def summary(self) -> QueueSummary:
        spend = self.queue.spend(self.namespace, self.profile.daily_cap)
        durations = self.queue.durations(self.namespace)
        return QueueSummary(
            counts=self.queue.counts(self.namespace),
            limit=self.limit,
            paused=self.queue.paused(self.namespace),
            held=self.held,
            spent_today=spend.today,
            committed=spend.committed,
            daily_cap=spend.daily_cap,
            unit=pricing.unit_of(self.profile),
            typical=statistics.median(durations) if durations else None,
            waiting_on=self.waiting_on,
        )

    def eta(self, jobs: Sequence[Job], typical: float | None) -> dict[int, float]:
        """Seconds until each queued or active job is likely done, from recent durations
        (empty before any job finished: a guess from nothing helps nobody)."""
        if not typical:
            return {}
        now = time.time()
        etas: dict[int, float] = {}
        ahead = 0
        for job in jobs:
            if job.state.active and job.kind.paid:
                etas[job.id] = max(0.0, typical - (now - (job.sent or now)))
            elif job.state == JobState.QUEUED and job.kind.paid:
                rounds = ahead // max(1, self.limit) + 1
                etas[job.id] = typical * rounds
                ahead += 1
        return etas

    # -- putting jobs in -------------------------------------------------------------
    def cost_of(self, kind: JobKind, mode: str | None, jobs: int = 1) -> float | None:
        if kind == JobKind.SAVE:
            return 0.0
        action = Action.UPSCALE if kind == JobKind.UPSCALE else Action.IMAGINE
        return pricing.job_cost(self.profile, action, _mode(mode) or self.profile.default_mode, jobs)

    def add_prompts(
        self,
        prompts: Sequence[str],
        *,
        mode: str | None = None,
        name: str = "composer",
        follow_ups: FollowUps | None = None,
        cap: float | None = None,
    ) -> int:
        """Queue prompts (each checked as the prompt box checks it, permutations expanded;
        PromptRefused for the first that would be refused, and nothing is queued)."""
        jobs: list[NewJob] = []
        for text in prompts:
            plan = self.service.plan(text, mode=_mode(mode))
            per = max(1, plan.jobs // max(1, len(plan.prompts)))
            for prompt in plan.prompts:
                jobs.append(NewJob(prompt, mode=mode, cost=self.cost_of(JobKind.IMAGINE, mode, per)))
        return self.queue.add(self.namespace, name, jobs, follow_ups=follow_ups, cap=cap)

    def add_file(
        self,
        parsed: PromptFile,
        *,
        name: str,
        follow_ups: FollowUps | None = None,
        cap: float | None = None,
        mode: str | None = None,
    ) -> int:
        """Queue a prompt file's good lines as one batch (the caller decided about bad ones).
        Options given here win over the file's own ``@upscale``/``@save``/``@cap``."""
        follow = follow_ups or FollowUps(parsed.upscale, parsed.save_to)
        jobs = [
            NewJob(
                j.prompt,
                mode=j.mode or mode,
                line=j.line,
                cost=self.cost_of(JobKind.IMAGINE, j.mode or mode, j.jobs),
            )
            for j in parsed.jobs
        ]
        return self.queue.add(
            self.namespace,
            name,
            jobs,
            source=parsed.source,
            cap=cap if cap is not None else parsed.cap,
            follow_ups=follow,
        )

    # -- one step --------------------------------------------------------------------
    async def step(self) -> StepReport:
        """Settle, follow, and send what can be sent now (see the module's docstring)."""
        report = StepReport()
        async with self._lock:  # one step at a time: a step sends, and a send is paid
            try:
                await self._settle_orphans(report)
                await self._follow(report)
                await self._run_free_jobs(report)
                await self._dispatch(report)
            except QueueError as exc:
                self.held = exc.args[0] if exc.args else str(exc)
        return report

    def _emit(self, report: StepReport, job_id: int, message: str = "") -> None:
        job = self.queue.job(job_id)
        if job is None:
            return
        event = QueueEvent(job, clean(message))
        report.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    async def _settle_orphans(self, report: StepReport) -> None:
        grace = self.profile.request_timeout + 60
        orphans = self.queue.orphaned(self.namespace, grace=grace)
        unknown = self.queue.jobs(self.namespace, states=[JobState.UNKNOWN])
        if not orphans and not unknown:
            return
        # the journal's rows left 'sending' become found tasks or unconfirmed ones first
        with contextlib.suppress(MjError):
            await self.service.reconcile()
        journal = self.service.journal
        for job in orphans:
            # the job's send began when it was taken (`sent`); a row from before is a
            # send the job made before it was retried
            entry = journal.by_ref(self.namespace, job.ref, since=job.sent)
            if entry is None:
                self.queue.requeue(job.id, "mj-tui stopped before its request left; it waits again")
                self._emit(report, job.id, "back in the queue: its request never left")
                continue
            state, task_id = entry
            if state == "done" and task_id:
                self.queue.submitted(job.id, task_id)
                self._emit(report, job.id, f"sent before mj-tui stopped: task {task_id}")
            elif state == "unconfirmed":
                self.queue.unknown(
                    job.id,
                    task_id,
                    "mj-tui stopped before the provider answered: it may have been made. "
                    "Check the provider's list, then retry (r) or drop (x) it",
                )
                self._emit(report, job.id, "unknown: the provider's answer never came")
        if unknown and self.service.provider.server_history and time.monotonic() - self._looked_at_list > LIST_EVERY:
            # a slow server may make the task after its answer was given up on: its first
            # page settles an unconfirmed imagine it shows (never a send)
            self._looked_at_list = time.monotonic()
            with contextlib.suppress(MjError):
                await self.service.page(1, 20)
        for job in unknown:
            entry = journal.by_ref(self.namespace, job.ref, since=job.sent)
            found = entry and entry[0] == "done" and entry[1] and not str(entry[1]).startswith("unconfirmed-")
            if found and entry and self.queue.settle_unknown(job.id, str(entry[1])):
                self._emit(report, job.id, f"found at the provider: task {entry[1]}")

    async def _follow(self, report: StepReport) -> None:
        """Active jobs follow their tasks' states in the history."""
        active = [JobState.SUBMITTED, JobState.RUNNING]
        for job in self.queue.jobs(self.namespace, states=active, batch=self.only_batch):
            if not job.task_id:
                continue
            task = self.service.get_cached(job.task_id)
            if task is None:
                # a process killed between its answer and storing the task, or a task
                # found in the journal: nothing else would ever fetch it (or poll it)
                try:
                    task = await self.service.refresh(job.task_id)
                except MjError:
                    continue  # asked again next step
            if task.status.in_flight and job.task_id not in self.service.poller.in_flight:
                self.service.poller.track(task)  # sent by another process, or before a restart
                self._emit(report, job.id, "followed here")
            if task.status == Status.IN_PROGRESS and job.state == JobState.SUBMITTED:
                self.queue.running(job.id)
                self._emit(report, job.id, f"running {task.progress}%")
            elif task.status == Status.SUCCESS:
                if self.queue.finish(job.id, self._follow_ups(job, task)):
                    self._emit(report, job.id, "done")
            elif task.status in (Status.FAILURE, Status.CANCEL):
                reason = task.fail_reason or task.description or task.status.value.lower()
                if self.queue.failed(job.id, f"the provider: {reason}"):
                    self._emit(report, job.id, f"failed: {reason}")
            elif task.status == Status.MODAL:
                self.waiting_on = f"job {job.id} waits for a dialog step (task {task.id})"

    def _follow_ups(self, job: Job, task: Task) -> list[NewJob]:
        batch = self.queue.batch(job.batch)
        if batch is None:
            return []
        follow = batch.follow_ups
        jobs: list[NewJob] = []
        if job.kind == JobKind.IMAGINE and follow.upscale and task.is_grid:
            for quadrant in follow.upscale:
                jobs.append(
                    NewJob(
                        f"U{quadrant} of {job.prompt}",
                        kind=JobKind.UPSCALE,
                        mode=job.mode,
                        parent_job=job.id,
                        parent_task=task.id,
                        detail=str(quadrant),
                        cost=self.cost_of(JobKind.UPSCALE, job.mode),
                    )
                )
        if follow.save_to and job.kind != JobKind.SAVE:
            jobs.append(
                NewJob(
                    f"save {job.prompt} → {follow.save_to}",
                    kind=JobKind.SAVE,
                    parent_job=job.id,
                    parent_task=task.id,
                    detail=follow.save_to,
                    cost=0.0,
                )
            )
        return jobs

    async def _run_free_jobs(self, report: StepReport) -> None:
        for _ in range(20):  # a few per step: a step stays short
            claim = self.queue.claim(self.namespace, limit=0, kinds=[JobKind.SAVE], batch=self.only_batch)
            if claim.job is None:
                return
            await self._save(claim.job, report)

    async def _save(self, job: Job, report: StepReport) -> None:
        task = self.service.get_cached(job.parent_task or "")
        if task is None:
            self.queue.failed(job.id, f"task {job.parent_task} is not in the history")
            self._emit(report, job.id, "failed: its task is not in the history")
            return
        try:
            path = await self.service.export(task, Path(job.detail))
        except MjError as exc:
            self.queue.failed(job.id, exc.message)
            self._emit(report, job.id, f"not saved: {exc.message}")
            return
        except OSError as exc:
            self.queue.failed(job.id, f"cannot write {job.detail}: {exc.strerror or exc}")
            self._emit(report, job.id, f"not saved: {exc.strerror or exc}")
            return
        self.queue.finish(job.id)
        self._emit(report, job.id, f"saved {path}")

    def _busy_elsewhere(self) -> int:
        """Unfinished tasks at the provider that no job of the queue holds (sent from the
        prompt box, or by hand): they take slots too."""
        tasks = self.service.history.in_flight(self.namespace, since=time.time() - RESUME_WINDOW)
        held = {j.task_id for j in self.queue.jobs(self.namespace, states=ACTIVE_STATES) if j.task_id}
        return sum(1 for t in tasks if t.id not in held)

    async def _dispatch(self, report: StepReport) -> None:
        if time.monotonic() < self._not_before:
            return
        lease = self.profile.request_timeout * 2 + 120  # longer than a send and its look-for take
        while True:
            claim: Claim = self.queue.claim(
                self.namespace,
                limit=self.limit,
                busy_elsewhere=self._busy_elsewhere(),
                daily_cap=self.profile.daily_cap,
                lease=lease,
                batch=self.only_batch,
                amount=self.amount,
            )
            self.held = claim.held
            if claim.job is None:
                return
            self._emit(report, claim.job.id, "sending")
            stop = await self._send(claim.job, report)
            report.sent += 1
            if stop:
                return

    async def _send(self, job: Job, report: StepReport) -> bool:
        """Send one taken job; True when the queue should stop for now."""
        mode = _mode(job.mode)
        try:
            if job.kind == JobKind.UPSCALE:
                task = await self._press_upscale(job)
            else:
                task = await self.service.imagine(
                    job.prompt, mode=mode, ref=job.ref, webhook=self.service.webhook_for(f"job-{job.id}")
                )
        except OutcomeUnknown as exc:
            task_id = getattr(exc.task, "id", None)
            self.queue.unknown(job.id, task_id, exc.message)
            self._emit(report, job.id, "unknown: " + exc.message)
            return False
        except QueueFull as exc:
            # what the server held when it refused: the jobs out, less this one (still
            # 'sending' here, yet refused), and the tasks sent from elsewhere
            out = self.queue.counts(self.namespace)
            held = sum(out[s] for s in ACTIVE_STATES) - 1 + self._busy_elsewhere()
            self._learned_limit = exc.limit or max(1, held)
            self._learned_at = time.monotonic()
            return self._hold(job, report, "the provider's queue is full; it waits for a free slot")
        except RateLimited as exc:
            return self._hold(job, report, f"rate limited: {exc.message}", wait=exc.retry_after)
        except (AuthError, PermissionDenied, InsufficientBalance, HistoryNotWritable) as exc:
            self.queue.requeue(job.id, exc.message)
            self.queue.pause(self.namespace, f"{exc.title}: {exc.message}")
            self._emit(report, job.id, f"queue paused: {exc.message}")
            return True
        except MjError as exc:
            if exc.retryable:  # the connection never opened, a 429 without a body: nothing was made
                return self._hold(job, report, f"not sent ({exc.message}); it waits and goes again")
            self.queue.failed(job.id, exc.message)
            self._emit(report, job.id, f"failed: {exc.message}")
            return False
        self._backoff = BACKOFF_FIRST
        self.queue.submitted(job.id, task.id)
        self._emit(report, job.id, f"submitted: task {task.id}")
        return False

    def _hold(self, job: Job, report: StepReport, why: str, *, wait: float | None = None) -> bool:
        self.queue.requeue(job.id, why)
        pause = min(BACKOFF_MAX, max(wait or 0.0, self._backoff))
        self._backoff = min(BACKOFF_MAX, self._backoff * 2)
        self._not_before = time.monotonic() + pause
        self._emit(report, job.id, f"{why} (next try in {pause:.0f}s)")
        return True

    async def _press_upscale(self, job: Job) -> Task:
        parent = self.service.get_cached(job.parent_task or "")
        if parent is None:
            parent = await self.service.refresh(job.parent_task or "")
        wanted = job.detail
        button = next(
            (b for b in parent.buttons if b.kind == ButtonKind.UPSCALE and b.custom_id.split("::")[3:4] == [wanted]),
            None,
        )
        if button is None:
            raise Unsupported(f"Task {parent.id} has no U{wanted} button.")
        outcome = await self.service.press(
            parent, button, ref=job.ref, webhook=self.service.webhook_for(f"job-{job.id}")
        )
        return outcome.task

    # -- a person's commands ---------------------------------------------------------
    async def cancel(self, job_id: int) -> str:
        """Cancel a job: a queued one here; one at the provider there, where the dialect
        can (else it says so and the job goes on); an unknown one is dropped. Returns
        what happened, for a person to read."""
        job = self.queue.job(job_id)
        if job is None:
            return f"There is no job {job_id}."
        if job.state == JobState.QUEUED:
            self.queue.cancel(job_id, "removed from the queue")
            return f"Job {job_id} removed from the queue."
        if job.state == JobState.UNKNOWN:
            if job.task_id and job.task_id.startswith("unconfirmed-"):
                with contextlib.suppress(MjError):
                    self.service.dismiss(job.task_id)
            self.queue.cancel(job_id, "dropped (it may have been made: check the provider's list)")
            return f"Job {job_id} dropped."
        if job.state == JobState.SENDING:
            return f"Job {job_id} is being sent right now; cancel it once it is submitted."
        if job.state in (JobState.SUBMITTED, JobState.RUNNING) and job.task_id:
            await self.service.cancel(job.task_id)  # Unsupported / PermissionDenied say why not
            self.queue.cancel(job_id, "cancelled at the provider")
            return f"Job {job_id} cancelled at the provider (task {job.task_id})."
        return f"Job {job_id} is {job.state.value}: nothing to cancel."

    def retry(self, job_id: int) -> str:
        job = self.queue.job(job_id)
        if job is None:
            return f"There is no job {job_id}."
        if job.state not in (JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN):
            return f"Job {job_id} is {job.state.value}: only a failed, cancelled or unknown job is sent again."
        if job.state == JobState.UNKNOWN and job.task_id and job.task_id.startswith("unconfirmed-"):
            with contextlib.suppress(MjError):
                self.service.dismiss(job.task_id)
        self.queue.retry(job_id)
        return f"Job {job_id} queued again."

    # -- running until done (the CLI) ------------------------------------------------
    async def run(self, *, stop: asyncio.Event | None = None, batch: int | None = None) -> None:
        """Poll and step until the batch (or the whole queue) has nothing left the queue
        does by itself, or `stop` is set. Reads that fail wait for the next tick."""
        self.only_batch = batch
        while stop is None or not stop.is_set():
            with contextlib.suppress(MjError):
                await self.service.poll()
            await self.step()
            counts = self.queue.counts(self.namespace, batch=batch)
            if counts[JobState.QUEUED] + sum(counts[s] for s in ACTIVE_STATES) == 0:
                return
            if self.queue.paused(self.namespace) is not None and not any(counts[s] for s in ACTIVE_STATES):
                return
            if self.held and not any(counts[s] for s in ACTIVE_STATES):
                return  # a cap holds every job left: waiting would wait forever
            wait = self.service.poll_every
            if stop is None:
                await asyncio.sleep(wait)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)


def _mode(value: str | None) -> Mode | None:
    if not value:
        return None
    try:
        return Mode(value.lower())
    except ValueError:
        return None
