"""The queue from a shell: ``mj-tui batch FILE`` and ``mj-tui queue …``.

The same queue the TUI shows (in the history's file), driven by the same runner, with
the same checks: a prompt the prompt box would refuse is refused here, with its line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .core.errors import MjError
from .core.text import clean

if TYPE_CHECKING:
    # the prompt-file reader and the queue's store load with the commands that use them:
    # `mj-tui` alone (the TUI) imports this module for its arguments, before its first frame
    from .core.prompt_file import PromptFile
    from .core.queue import Job

    # the runner brings the service, and the service httpx: not for `mj-tui` alone (the TUI)
    from .core.queue_runner import QueueEvent, QueueRunner
    from .core.service import MjService

EXIT_OK, EXIT_API, EXIT_USAGE = 0, 1, 2
QUEUE_COMMANDS = ("list", "run", "pause", "resume", "cancel", "retry", "up", "down", "add")


class QueueUsage(Exception):
    """A usage problem (the CLI's UsageError: exit 2)."""


def add_arguments(command: Callable[[str, str], argparse.ArgumentParser], *, confirm_over: int) -> None:
    p = command(
        "batch",
        "run a prompt file through the queue (one prompt per line); run it again to resume",
    )
    p.add_argument("file", metavar="FILE", help="prompts, one per line; # comments; @mode @image @upscale @save @cap")
    p.add_argument("--mode", choices=["fast", "relax", "turbo"], default=None, help="for lines without @mode")
    p.add_argument("--upscale", default=None, metavar="all|1,3", help="upscale these quadrants of every grid")
    p.add_argument("--save", default=None, metavar="DIR", help="save every finished picture there")
    p.add_argument("--cap", type=float, default=None, metavar="N", help="the most the batch may spend")
    p.add_argument("--skip-bad", action="store_true", help="queue the good lines when some would be refused")
    p.add_argument("--again", action="store_true", help="queue a file that already ran as a new batch")
    p.add_argument("--yes", action="store_true", help=f"queue more than {confirm_over} paid jobs")
    p.add_argument("--json", action="store_true", help="one JSON object per job state change on stdout")

    p = command("queue", "show or steer the local job queue (list, run, pause, resume, cancel, retry, up, down, add)")
    p.add_argument("queue_command", nargs="?", default="list", choices=QUEUE_COMMANDS, metavar="COMMAND")
    p.add_argument("args", nargs="*", metavar="ARG", help="a job id (cancel, retry, up, down) or prompts (add)")
    p.add_argument("--mode", choices=["fast", "relax", "turbo"], default=None, help="for add")
    p.add_argument("--json", action="store_true")


# -- output -------------------------------------------------------------------------------


def _line(text: object) -> str:
    return clean(str(text), one_line=True)


def job_json(job: Job) -> dict[str, Any]:
    return {
        "job": job.id,
        "batch": job.batch,
        "kind": job.kind.value,
        "state": job.state.value,
        "prompt": job.prompt,
        "task_id": job.task_id,
        "line": job.line,
        "cost": job.cost,
        "error": job.error or None,
    }


def _event_printer(as_json: bool) -> Callable[[QueueEvent], None]:
    from .cli import json_text

    def show(event: QueueEvent) -> None:
        job = event.job
        if as_json:
            data = {**job_json(job), "message": event.message or None, "time": round(time.time(), 3)}
            sys.stdout.write(json_text(data).replace("\n", "") + "\n")
            sys.stdout.flush()
            return
        where = f" (line {job.line})" if job.line else ""
        task = f" task {_line(job.task_id)}" if job.task_id and "task" not in event.message else ""
        note = f": {_line(event.message)}" if event.message and event.message != job.state.value else ""
        print(
            f"job {job.id}{where} [{job.state.value}] {_line(job.prompt)[:60]}{task}{note}", file=sys.stderr, flush=True
        )

    return show


def _note(text: str) -> None:
    print(f"mj-tui: {text}", file=sys.stderr, flush=True)


def _runner(service: MjService, as_json: bool = False, *, quiet: bool = False) -> QueueRunner:
    # here, not at the top: the runner brings the service and httpx, which `mj_tui.cli`
    # (imported before the TUI's first frame) must not wait for
    from .core.queue_runner import QueueRunner

    return QueueRunner(service, service.job_queue, on_event=None if quiet else _event_printer(as_json))


def _summary_line(runner: QueueRunner, batch: int | None = None) -> str:
    counts = runner.queue.counts(runner.namespace, batch=batch)
    parts = [f"{n} {state.value}" for state, n in counts.items() if n]
    if batch is not None:
        spent, committed = runner.queue.batch_spend(runner.namespace, batch)
    else:
        spend = runner.queue.spend(runner.namespace, runner.profile.daily_cap)
        spent, committed = spend.today, spend.committed
    money = f"; spent {runner.amount(spent)}" if spent or committed else ""
    if committed:
        money += f", {runner.amount(committed)} running"
    return (", ".join(parts) or "empty") + money


# -- batch --------------------------------------------------------------------------------


async def cmd_batch(args: argparse.Namespace, service: MjService, *, confirm_over: int) -> int:
    from .core.prompt_file import quadrants_option, read_prompt_file
    from .core.queue import FollowUps, JobState

    runner = _runner(service, args.json)
    queue = runner.queue
    path = Path(_user_path(args.file))
    mode = args.mode or service.default_mode.value

    def plan(text: str, line_mode: str | None) -> Any:
        from .core.models import Mode

        return service.plan(text, mode=Mode(line_mode) if line_mode else None)

    parsed: PromptFile = await asyncio.to_thread(read_prompt_file, path, plan=plan, default_mode=mode)
    upscale = quadrants_option(args.upscale) if args.upscale else None
    if args.upscale and upscale is None:
        raise QueueUsage(f"--upscale takes all, or quadrants 1-4 such as 1,3 (got {args.upscale})")
    for warning in parsed.warnings:
        _note(f"{_line(path)}:{warning.line}: warning: {_line(warning.reason)}")
    existing = None if args.again else queue.batch_by_source(runner.namespace, parsed.source)
    if existing is not None:
        counts = queue.counts(runner.namespace, batch=existing.id)
        _note(f"resuming batch {existing.id} from {_line(path)}: {_summary_line(runner, existing.id)}")
        if counts[JobState.QUEUED] + sum(counts[s] for s in JobState if s.active) == 0:
            unsettled = counts[JobState.FAILED] + counts[JobState.UNKNOWN] + counts[JobState.CANCELLED]
            _note("nothing left to run; --again queues the file as a new batch")
            return EXIT_API if unsettled else EXIT_OK
        batch = existing.id
    else:
        if parsed.bad:
            for bad in parsed.bad:
                _note(f"{_line(path)}:{bad.line}: {_line(bad.reason)}")
            if not args.skip_bad:
                raise QueueUsage(
                    f"{len(parsed.bad)} line{'s' if len(parsed.bad) > 1 else ''} would be refused: nothing was "
                    "queued. Fix them, or add --skip-bad to queue the rest."
                )
        if not parsed.jobs:
            raise QueueUsage(f"{path} has no prompts to queue.")
        paid = sum(j.jobs for j in parsed.jobs)
        cost = sum(runner.cost_of(_kind_imagine(), j.mode, j.jobs) or 0.0 for j in parsed.jobs)
        estimate = f", about {runner.amount(cost)}" if cost else ""
        if paid > confirm_over and not args.yes:
            raise QueueUsage(f"This batch makes {paid} paid jobs{estimate} (follow-ups not counted): add --yes.")
        follow = None
        if upscale is not None or args.save:
            follow = FollowUps(
                upscale if upscale is not None else parsed.upscale,
                _user_path(args.save) if args.save else parsed.save_to,
            )
        batch = runner.add_file(parsed, name=path.name, follow_ups=follow, cap=args.cap, mode=mode)
        saved = queue.batch(batch)
        follow_text = saved.follow_ups.describe() if saved else ""
        _note(
            f"queued batch {batch}: {len(parsed.jobs)} jobs{estimate}"
            + (f"; then {follow_text}" if follow_text else "")
            + (f"; cap {runner.amount(saved.cap)}" if saved and saved.cap is not None else "")
        )
    paused = queue.paused(runner.namespace)
    if paused is not None:
        _note(f"the queue is paused{': ' + _line(paused) if paused else ''}; `mj-tui queue resume` starts it again")
        return EXIT_API
    await runner.run(batch=batch)
    counts = queue.counts(runner.namespace, batch=batch)
    _note(f"batch {batch}: {_summary_line(runner, batch)}")
    paused = queue.paused(runner.namespace)
    if paused:
        _note(f"the queue paused: {_line(paused)}")
    if runner.held:
        _note(_line(runner.held))
    left = counts[JobState.QUEUED] + sum(counts[s] for s in JobState if s.active)
    unsettled = counts[JobState.FAILED] + counts[JobState.UNKNOWN] + counts[JobState.CANCELLED]
    return EXIT_OK if left == 0 and unsettled == 0 else EXIT_API


def _user_path(text: str) -> str:
    """~ expanded (no disk is read: a name's home is looked up in the environment)."""
    return os.path.expanduser(text)


def _kind_imagine() -> Any:
    from .core.queue import JobKind

    return JobKind.IMAGINE


# -- queue --------------------------------------------------------------------------------


def _job_id(args: argparse.Namespace) -> int:
    if len(args.args) != 1 or not args.args[0].isdigit():
        raise QueueUsage(f"`mj-tui queue {args.queue_command}` takes one job id (see `mj-tui queue`).")
    return int(args.args[0])


async def cmd_queue(args: argparse.Namespace, service: MjService) -> int:
    from .core.queue import JobState

    command = args.queue_command
    runner = _runner(service, args.json, quiet=command != "run")
    queue = runner.queue
    namespace = runner.namespace
    if command == "list":
        return _list(runner, args.json)
    if command == "pause":
        queue.pause(namespace, "paused by hand")
        _note("queue paused: jobs at the provider go on, no new one is sent")
        return EXIT_OK
    if command == "resume":
        queue.resume(namespace)
        _note("queue resumed: `mj-tui queue run` (or the TUI) sends what waits")
        return EXIT_OK
    if command == "run":
        if args.args:
            raise QueueUsage("`mj-tui queue run` takes no arguments.")
        paused = queue.paused(namespace)
        if paused is not None:
            raise QueueUsage("the queue is paused" + (f" ({_line(paused)})" if paused else "") + ": resume it first.")
        await runner.run()
        _note(_summary_line(runner))
        counts = queue.counts(namespace)
        return EXIT_API if counts[JobState.FAILED] + counts[JobState.UNKNOWN] else EXIT_OK
    if command == "add":
        if not args.args:
            raise QueueUsage("`mj-tui queue add` takes one or more prompts.")
        batch = runner.add_prompts(args.args, mode=args.mode, name="command line")
        _note(f"queued batch {batch}: {_summary_line(runner, batch)}; `mj-tui queue run` sends it")
        return EXIT_OK
    job_id = _job_id(args)
    if queue.job(job_id) is None:
        raise QueueUsage(f"There is no job {job_id} (see `mj-tui queue`).")
    if command == "cancel":
        try:
            _note(_line(await runner.cancel(job_id)))
        except MjError as exc:
            _note(f"job {job_id} goes on: {_line(exc.message)}")
            return EXIT_API
        return EXIT_OK
    if command == "retry":
        message = runner.retry(job_id)
        _note(_line(message))
        return EXIT_OK if "queued again" in message else EXIT_API
    moved = queue.move(job_id, -1 if command == "up" else 1)
    _note(f"job {job_id} moved {command}" if moved else f"job {job_id} is not a queued job that can move {command}")
    return EXIT_OK if moved else EXIT_API


def _list(runner: QueueRunner, as_json: bool) -> int:
    from .core.queue import JobState

    summary = runner.summary()
    jobs = runner.queue.jobs(runner.namespace, limit=500)
    etas = runner.eta(jobs, summary.typical)
    if as_json:
        from .cli import json_text

        data = {
            "paused": summary.paused,
            "limit": summary.limit,
            "spent_today": summary.spent_today,
            "committed": summary.committed,
            "daily_cap": summary.daily_cap,
            "unit": summary.unit,
            "jobs": [{**job_json(j), "eta_seconds": round(etas[j.id]) if j.id in etas else None} for j in jobs],
        }
        print(json_text(data))
        return EXIT_OK
    head = f"{summary.out} out of {summary.limit} at once, {summary.queued} queued"
    if summary.paused is not None:
        head += " — PAUSED" + (f": {_line(summary.paused)}" if summary.paused else "")
    money = runner.amount(summary.spent_today)
    if summary.daily_cap is not None:
        money += f" of {runner.amount(summary.daily_cap)}"
    print(f"{head}; spent today {money}")
    for job in jobs:
        eta = f" ~{_duration(etas[job.id])}" if job.id in etas else ""
        task = f" task {_line(job.task_id)}" if job.task_id else ""
        error = f" — {_line(job.error)}" if job.error and job.state != JobState.DONE else ""
        print(f"{job.id:>5} {job.state.value:<9} {_line(job.prompt)[:60]}{task}{eta}{error}")
    if not jobs:
        print("(the queue is empty: `mj-tui batch FILE` or `mj-tui queue add PROMPT`)")
    return EXIT_OK


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
