"""The queue view: every job, its state, place, ETA and cost, and the keys to steer it.

Jobs are read from the queue's store (another process may share it) when the runner
reports a change, and every few seconds while jobs are out (their ETAs move).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ...core.errors import MjError
from ...core.queue import Job, JobState
from ..text import clean
from ..widgets.footer import KeyFooter
from ..worker_errors import ReportWorkerErrors

if TYPE_CHECKING:
    from ..flows.queue import QueueFlow

STATE_STYLE = {
    JobState.QUEUED: "",
    JobState.SENDING: "bold yellow",
    JobState.SUBMITTED: "yellow",
    JobState.RUNNING: "bold yellow",
    JobState.DONE: "green",
    JobState.FAILED: "bold red",
    JobState.CANCELLED: "dim",
    JobState.UNKNOWN: "bold magenta",
}


class QueueScreen(ReportWorkerErrors, Screen[str | None]):
    """Dismissed with a task id to show in the list (enter), or None."""

    DEFAULT_CSS = """
    QueueScreen { layout: vertical; }
    QueueScreen #queue-title { height: auto; padding: 0 1; background: $boost; }
    QueueScreen #queue-jobs { height: 1fr; }
    QueueScreen #queue-detail { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q,f9", "close", "Back", id="queue-back", tooltip="Back to the task list"),
        Binding("p,space", "pause", "Pause", id="queue-pause", tooltip="Pause the queue, or resume it"),
        Binding("K,shift+up", "move(-1)", "Up", id="queue-up", key_display="K", tooltip="Move the job up"),
        Binding("J,shift+down", "move(1)", "Down", id="queue-down", key_display="J", tooltip="Move the job down"),
        Binding(
            "x,delete",
            "cancel_job",
            "Cancel",
            id="queue-cancel",
            tooltip="Remove a queued job, cancel a running one (where the provider can), drop an unknown one",
        ),
        Binding("r", "retry", "Retry", id="queue-retry", tooltip="Queue a failed, cancelled or unknown job again"),
        Binding("o", "open_file", "File", id="queue-file", tooltip="Queue a prompt file"),
        Binding("enter", "show_task", "Task", id="queue-task", tooltip="Show the job's task in the list"),
    ]

    def __init__(self, flow: QueueFlow) -> None:
        super().__init__()
        self.flow = flow
        self._jobs: list[Job] = []

    def compose(self) -> ComposeResult:
        yield Static(id="queue-title", markup=False)
        table: DataTable[Text] = DataTable(id="queue-jobs", cursor_type="row", zebra_stripes=False)
        yield table
        yield Static(id="queue-detail", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("#", key="id", width=5)
        table.add_column("state", key="state", width=9)
        table.add_column("prompt", key="prompt")
        table.add_column("eta", key="eta", width=5)
        table.add_column("cost", key="cost", width=10)
        self.refresh_jobs()
        # ETAs move while jobs are out; nothing moves otherwise (an idle screen sends nothing)
        self.set_interval(5.0, self._tick)
        table.focus()

    def _tick(self) -> None:
        summary = self.flow.summary
        if summary is not None and summary.out:
            self.refresh_jobs()

    # -- what is shown ----------------------------------------------------------------
    def refresh_jobs(self) -> None:
        runner = self.flow.runner
        title = self.query_one("#queue-title", Static)
        if runner is None:
            title.update("Queue — connecting…")
            return
        summary = self.flow.summary or runner.summary()
        jobs = runner.queue.jobs(runner.namespace, limit=300)
        etas = runner.eta(jobs, summary.typical)
        parts = [f"Queue — {summary.out} out of {summary.limit} at once, {summary.queued} queued"]
        money = runner.amount(summary.spent_today)
        if summary.daily_cap is not None:
            money += f" / {runner.amount(summary.daily_cap)}"
        if summary.spent_today or summary.daily_cap is not None:
            parts.append(f"spent today {money}")
        if summary.paused is not None:
            parts.append("PAUSED" + (f": {summary.paused}" if summary.paused else ""))
        if summary.held:
            parts.append(summary.held)
        title.update(clean(" · ".join(parts)))
        table = self.query_one(DataTable)
        keep = self._jobs[table.cursor_row].id if self._jobs and 0 <= table.cursor_row < len(self._jobs) else None
        self._jobs = jobs
        table.clear()
        for job in jobs:
            eta = _duration(etas[job.id]) if job.id in etas else ""
            cost = runner.amount(job.cost) if job.cost else ""
            table.add_row(
                Text(str(job.id)),
                Text(job.state.value, style=STATE_STYLE[job.state]),
                Text(clean(job.prompt, one_line=True), no_wrap=True, overflow="ellipsis"),
                Text(eta),
                Text(cost),
                key=str(job.id),
            )
        if keep is not None:
            row = next((i for i, j in enumerate(jobs) if j.id == keep), None)
            if row is not None:
                table.move_cursor(row=row, animate=False)
        self._show_detail()
        if not jobs:
            self.query_one("#queue-detail", Static).update(
                "The queue is empty. ctrl+g in the prompt box queues a prompt; o queues a prompt file."
            )

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        job = self.current
        detail = self.query_one("#queue-detail", Static)
        if job is None:
            detail.update("")
            return
        bits = [f"job {job.id}, batch {job.batch}", job.state.value]
        if job.line:
            bits.append(f"line {job.line}")
        if job.task_id:
            bits.append(f"task {job.task_id}")
        text = " · ".join(bits)
        if job.error:
            text += f"\n{job.error}"
        detail.update(clean(text))

    @property
    def current(self) -> Job | None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    # -- keys -------------------------------------------------------------------------
    def action_close(self) -> None:
        self.dismiss(None)

    def action_pause(self) -> None:
        runner = self.flow.runner
        if runner is None:
            return
        if runner.queue.paused(runner.namespace) is None:
            runner.queue.pause(runner.namespace, "paused by hand")
            self.notify("Paused: jobs out at the provider go on; none is sent.", timeout=3, markup=False)
        else:
            runner.queue.resume(runner.namespace)
            self.notify("Resumed.", timeout=2, markup=False)
        self.flow.step()
        self.refresh_jobs()

    def action_move(self, steps: int) -> None:
        job, runner = self.current, self.flow.runner
        if job is None or runner is None:
            return
        if not runner.queue.move(job.id, steps):
            if job.state != JobState.QUEUED:
                self.notify(f"Job {job.id} is {job.state.value}: only queued jobs move.", timeout=3, markup=False)
            return
        self.refresh_jobs()

    def action_cancel_job(self) -> None:
        job, runner = self.current, self.flow.runner
        if job is None or runner is None:
            return

        async def cancel() -> None:
            try:
                message = await runner.cancel(job.id)
            except MjError as exc:
                self.notify(f"Job {job.id} goes on: {exc.message}", title=exc.title, severity="warning", markup=False)
                return
            self.notify(message, timeout=4, markup=False)
            self.flow.step()
            self.refresh_jobs()

        self.run_worker(cancel(), group="queue-cancel", exit_on_error=False)

    def action_retry(self) -> None:
        from .confirm import ConfirmDialog

        job, runner = self.current, self.flow.runner
        if job is None or runner is None:
            return

        def again(yes: bool | str | None = True) -> None:
            if yes:
                self.notify(runner.retry(job.id), timeout=3, markup=False)
                self.flow.step()
                self.refresh_jobs()

        if job.state == JobState.UNKNOWN:
            self.app.push_screen(
                ConfirmDialog(
                    "Send it again?",
                    f"“{clean(job.prompt)[:120]}” may already be at the provider: its answer never came. "
                    "Check the provider's own list first; sending it again may pay twice.",
                    yes="Send again",
                ),
                again,
            )
            return
        again()

    def action_open_file(self) -> None:
        self.flow.open_file()

    def action_show_task(self) -> None:
        job = self.current
        if job is None or not job.task_id:
            return
        self.dismiss(job.task_id)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
