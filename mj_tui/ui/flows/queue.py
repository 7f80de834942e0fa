"""The local job queue in the TUI: jobs go in from the prompt box and prompt files, and
the runner feeds them to the provider as slots free up.

The runner's step runs in a worker: after every poll, on its own slow timer (a queue
with nothing out has no poll to follow), and when a job goes in. A job the queue sent
joins the task list like one sent from the prompt box.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual.timer import Timer

from ...core.errors import MjError
from ...core.models import Mode
from ...core.prompt import PromptPlan
from ...core.queue import FollowUps, JobKind, JobState
from ..text import clean
from .base import Flow, short

if TYPE_CHECKING:
    # the runner brings the service, and the service httpx: after the first frame
    from ...core.queue_runner import QueueEvent, QueueRunner, QueueSummary
    from ...core.service import MjService
    from ..screens.queue import QueueScreen

#: seconds between steps while nothing is out (a job waits on the queue, not the provider)
IDLE_STEP = 2.0


class QueueFlow(Flow):
    """One per main screen; `runner` exists once the service is connected."""

    def __init__(self, screen) -> None:
        super().__init__(screen)
        self.runner: QueueRunner | None = None
        self._stepping = False
        self._again = False
        self._timer: Timer | None = None
        self._said_held = ""
        self.summary: QueueSummary | None = None

    # -- life -------------------------------------------------------------------------
    def connected(self, service: MjService) -> None:
        """A service (a start, or a new key): the queue of its profile, resumed."""
        from ...core.queue_runner import QueueRunner

        self.runner = QueueRunner(service, service.job_queue, on_event=self._event)
        if self._timer is None:
            self._timer = self.screen.set_interval(IDLE_STEP, self.step)
        self.run(self._resume(), group="queue-resume")

    def disconnected(self) -> None:
        self.runner = None
        self.summary = None

    async def _resume(self) -> None:
        runner = self.runner
        if runner is None:
            return
        summary = runner.summary()
        self.summary = summary
        if summary.queued or summary.out or summary.counts[JobState.UNKNOWN]:
            paused = " (paused: f9, then p resumes it)" if summary.paused is not None else ""
            unknown = summary.counts[JobState.UNKNOWN]
            extra = f"; {unknown} unknown wait for you (f9)" if unknown else ""
            self.notify(
                f"{summary.queued} queued, {summary.out} out at the provider{extra}{paused}.",
                title="Queue resumed" if summary.paused is None else "Queue",
                timeout=6,
            )
        self.step()

    # -- stepping ---------------------------------------------------------------------
    def step(self) -> None:
        """Run one step soon (one at a time; a request meanwhile runs another after)."""
        if self.runner is None:
            return
        if self._stepping:
            self._again = True
            return
        self._stepping = True
        self.run(self._step(self.runner), group="queue")

    async def _step(self, runner: QueueRunner) -> None:
        try:
            while True:
                self._again = False
                await runner.step()
                self.summary = runner.summary()
                if not self._again:
                    break
        finally:
            self._stepping = False
        self._show_summary()

    def _show_summary(self) -> None:
        summary = self.summary
        if summary is None:
            return
        header = self.screen.header
        header.waiting = summary.queued
        header.paused = summary.paused is not None
        header.daily_cap = summary.daily_cap
        header.spent_today = summary.spent_today
        if summary.held and summary.held != self._said_held:
            self.notify(summary.held, title="Queue held", severity="warning", timeout=8)
        self._said_held = summary.held
        queue_screen = self._queue_screen()
        if queue_screen is not None:
            queue_screen.refresh_jobs()

    def _event(self, event: QueueEvent) -> None:
        job = event.job
        service = self.session.service
        if job.state.active and job.task_id and service is not None:
            task = service.get_cached(job.task_id)
            if task is not None:
                self.screen.connection.task_arrived(task)
        elif event.message.startswith("queue paused"):
            self.notify(event.message, title="Queue paused", severity="error", timeout=10)
        elif job.state == JobState.UNKNOWN:
            self.notify(
                f"{short(job.prompt, 48)}\nIts answer never came; it was not sent again. f9: retry or drop it.",
                title="Queue: not confirmed",
                severity="warning",
                timeout=10,
            )
        elif job.state == JobState.FAILED and job.kind.value == "save":
            self.notify(event.message, title="Not saved", severity="error", timeout=8)
        queue_screen = self._queue_screen()
        if queue_screen is not None:
            queue_screen.refresh_jobs()

    def _queue_screen(self) -> QueueScreen | None:
        from ..screens.queue import QueueScreen

        for open_screen in self.screen.app.screen_stack:
            if isinstance(open_screen, QueueScreen):
                return open_screen
        return None

    # -- putting jobs in --------------------------------------------------------------
    def add(self, prompts: Sequence[str], mode: Mode | None, *, why: str = "") -> None:
        """Queue prompts (the box's, or the ones a full provider would refuse now)."""
        runner = self.runner
        if runner is None:
            self.notify("Still connecting; try again in a moment.", severity="warning", timeout=3)
            return
        try:
            runner.add_prompts(list(prompts), mode=mode.value if mode else None)
        except MjError as exc:
            self.notify(exc.message, title=exc.title, severity="error")
            return
        n = len(prompts)
        what = f"{n} prompt{'s' if n > 1 else ''}" if n > 1 else short(prompts[0], 40)
        self.notify(
            f"{what}{': ' + why if why else ''}. They go as slots free up; f9 shows the queue.",
            title="Queued",
            timeout=5,
        )
        self.step()

    def open_file(self) -> None:
        """Ask for a prompt file, check it, show what it makes, then queue it."""
        from ..screens.ask import AskDialog

        def chosen(text: str | None) -> None:
            if text:
                self.run(self._read_file(Path(text).expanduser()), group="queue-file")

        self.screen.app.push_screen(
            AskDialog(
                "Queue a prompt file",
                "One prompt per line; # comments; @mode, @image, @upscale, @save and @cap lines.",
                placeholder="~/prompts.txt",
            ),
            chosen,
        )

    async def _read_file(self, path: Path) -> None:
        import asyncio

        from ...core.prompt_file import read_prompt_file
        from ..screens.confirm import ConfirmDialog

        service = await self.ready()
        runner = self.runner
        if runner is None:
            return

        def plan(text: str, mode: str | None) -> PromptPlan:
            return service.plan(text, mode=Mode(mode) if mode else None)

        mode = self.screen.composer.mode
        parsed = await asyncio.to_thread(
            read_prompt_file, path, plan=plan, default_mode=mode.value if mode else service.default_mode.value
        )
        existing = runner.queue.batch_by_source(runner.namespace, parsed.source)
        if existing is not None:
            counts = runner.queue.counts(runner.namespace, batch=existing.id)
            self.notify(
                f"{clean(path.name)} is batch {existing.id} already: "
                + ", ".join(f"{n} {s.value}" for s, n in counts.items() if n),
                title="Queued before",
                timeout=8,
            )
            return
        if not parsed.jobs:
            problems = "\n".join(f"line {b.line}: {clean(b.reason, one_line=True)}" for b in parsed.bad[:8])
            self.notify(f"No prompt to queue in {clean(path.name)}.\n{problems}", title="Prompt file", severity="error")
            return
        paid = sum(j.jobs for j in parsed.jobs)
        cost = sum(runner.cost_of(_imagine(), j.mode, j.jobs) or 0.0 for j in parsed.jobs)
        lines = [f"{paid} paid jobs" + (f", about {runner.amount(cost)}" if cost else "") + "."]
        follow = FollowUps(parsed.upscale, parsed.save_to).describe()
        if follow:
            lines.append(f"Then, for each: {follow}.")
        if parsed.cap is not None:
            lines.append(f"Batch cap: {runner.amount(parsed.cap)}.")
        if parsed.bad:
            lines.append(
                f"{len(parsed.bad)} line{'s' if len(parsed.bad) > 1 else ''} would be refused and are left out:"
            )
            lines += [f"  line {b.line}: {short(b.reason, 70)}" for b in parsed.bad[:5]]
        lines += [f"  {j.line}. {short(j.prompt, 64)}" for j in parsed.jobs[:5]]
        if len(parsed.jobs) > 5:
            lines.append(f"  … and {len(parsed.jobs) - 5} more")

        def answer(yes: bool | str | None) -> None:
            if not yes or self.runner is None:
                self.notify("Nothing was queued.", timeout=3)
                return
            batch = self.runner.add_file(parsed, name=path.name)
            self.notify(f"Batch {batch}: {len(parsed.jobs)} jobs from {clean(path.name)}.", title="Queued", timeout=5)
            self.step()

        self.screen.app.push_screen(
            ConfirmDialog(f"Queue {clean(path.name)}?", "\n".join(lines), yes=f"Queue {len(parsed.jobs)} jobs"),
            answer,
        )

    # -- the quit question ------------------------------------------------------------
    def quit_reason(self) -> str | None:
        summary = self.summary
        if summary is None or not summary.busy:
            return None
        return (
            f"{summary.queued} queued, {summary.out} out at the provider: "
            "they resume the next time mj-tui (or `mj-tui queue run`) starts."
        )


def _imagine() -> JobKind:
    return JobKind.IMAGINE
