"""Bulk export: many tasks' pictures into one folder, each carrying its story.

Reached through :meth:`MjService.export_many`; the caller chooses the tasks (a search
result, the starred set, every task it knows). Files are named
``{date}-{slug}-{id}[-u{n}].{ext}`` (the day the task was submitted, in UTC).

A run can be repeated or resumed: a picture whose file is already in the folder (the same
name, with this task's id in its metadata) is skipped before anything is fetched; an
image the cache holds is never downloaded again; the others are fetched a few at a time.
A picture that cannot be fetched (an expired link, a 404, a page instead of an image) is
reported and the run goes on; a folder that cannot take files (read-only, a full disk)
stops it, since every later save would fail the same way. Every file is written whole
under a temporary name and then renamed, so nothing half-written is left.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .errors import ImageError, MjError
from .images import FolderError, ImageCache, Story, dated_filename, read_metadata
from .images.export import check_writable, write_replacing
from .images.metadata import sidecar_json
from .models import Action, Status, Task

#: images fetched at once: enough to hide a CDN's latency, few enough to be polite to it
CONCURRENCY = 4

# "<stem>.<ext>" or "<stem> (<n>).<ext>", as write_new_file names a second file
_SAVED_NAME = re.compile(r"(?P<stem>.+?)(?: \((?P<n>\d+)\))?\.(?P<ext>png|jpe?g|webp)", re.IGNORECASE)
_NO_PICTURE = (Action.DESCRIBE, Action.SHORTEN)


@dataclass(frozen=True)
class ExportProgress:
    """One task finished (saved, skipped, failed or left out)."""

    #: tasks finished so far
    done: int
    #: how many there are, when the caller gave a collection (None for a stream)
    total: int | None
    #: the id of the task just finished
    current: str
    #: "saved", "skipped" (already there), "failed" or "left out"
    outcome: str
    #: the files that hold it (saved or found), none for a failure
    paths: tuple[Path, ...] = ()
    #: why it failed or was left out
    reason: str = ""


@dataclass
class ExportReport:
    folder: Path
    #: files written by this run
    saved: list[Path] = field(default_factory=list)
    #: files already in the folder for these tasks (an earlier run wrote them)
    skipped: list[Path] = field(default_factory=list)
    #: task id -> why its picture could not be saved
    failed: dict[str, str] = field(default_factory=dict)
    #: task id -> why it has nothing to save (unfinished, a /describe, a grid with upscales_only)
    left_out: dict[str, str] = field(default_factory=dict)
    #: why the run stopped before the end (the folder cannot take more files), else None
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """Every picture asked for is in the folder."""
        return not self.failed and self.stopped is None


class ExportSource(Protocol):
    """What the bulk export needs from the service."""

    images: ImageCache

    async def fetch_image(self, task: Task) -> Path: ...

    def image_key(self, task: Task) -> str: ...

    def story(self, task: Task, quadrant: int | None = None) -> Story: ...


def _index(folder: Path) -> dict[str, list[str]]:
    """Picture files in `folder` by the stem they were named from ("x.png", "x (2).jpg" -> "x")."""
    found: dict[str, list[str]] = {}
    for entry in folder.iterdir():
        match = _SAVED_NAME.fullmatch(entry.name)
        if match:
            found.setdefault(match["stem"], []).append(entry.name)
    for names in found.values():
        names.sort(key=lambda name: (len(name), name))
    return found


def _left_out(task: Task, upscales_only: bool) -> str:
    if task.status != Status.SUCCESS:
        return f"not finished ({task.status.value.lower()})"
    if str(task.action).upper() in _NO_PICTURE:
        return f"a /{str(task.action).lower()} has no picture"
    if upscales_only and task.is_grid:
        return "a grid (upscales only)"
    return ""


class _Run:
    def __init__(
        self,
        source: ExportSource,
        folder: Path,
        *,
        upscales_only: bool,
        quadrants: bool,
        sidecar: bool,
        on_progress: Callable[[ExportProgress], None] | None,
        total: int | None,
        index: dict[str, list[str]],
    ):
        self.source = source
        self.folder = folder
        self.upscales_only = upscales_only
        self.quadrants = quadrants
        self.sidecar = sidecar
        self.on_progress = on_progress
        self.total = total
        self.index = index
        self.report = ExportReport(folder)
        self.done = 0

    def _finished(self, task: Task, outcome: str, paths: tuple[Path, ...] = (), reason: str = "") -> None:
        self.done += 1
        if self.on_progress is not None:
            self.on_progress(ExportProgress(self.done, self.total, task.id, outcome, paths, reason))

    def _already_there(self, stem: str, story: Story) -> Path | None:
        """The file an earlier run saved for this picture: named from `stem`, and carrying
        this task's id (and quadrant) in its metadata, not merely the name."""
        for name in self.index.get(stem, ()):
            path = self.folder / name
            try:
                saved = read_metadata(path)
            except ImageError:
                continue  # something else under that name: this run saves beside it
            if saved.get("task_id") == story.task_id and saved.get("quadrant", "") == story.quadrant:
                if self.sidecar and not path.with_suffix(".json").exists():
                    write_replacing(path.with_suffix(".json"), sidecar_json(story, path.name).encode("utf-8"))
                return path
        return None

    async def one(self, task: Task) -> None:
        why = _left_out(task, self.upscales_only)
        if why:
            self.report.left_out[task.id] = why
            self._finished(task, "left out", reason=why)
            return
        try:
            found, saved = await self._save(task)
        except FolderError as exc:
            self.report.stopped = exc.message
            self.report.failed[task.id] = exc.message
            self._finished(task, "failed", reason=exc.message)
            return
        except MjError as exc:
            self.report.failed[task.id] = exc.message
            self._finished(task, "failed", reason=exc.message)
            return
        self._finished(task, "saved" if saved else "skipped", (*found, *saved))

    async def _save(self, task: Task) -> tuple[list[Path], list[Path]]:
        """(files already there, files written) for the task's picture or its four cells."""
        cells: list[int | None] = [1, 2, 3, 4] if self.quadrants and task.is_grid else [None]
        wanted: list[tuple[int | None, str, Story]] = []
        found: list[Path] = []
        for quadrant in cells:
            story = self.source.story(task, quadrant)
            name = dated_filename(task.id, task.prompt or task.final_prompt, task.submit_time, quadrant=quadrant)
            stem = name.rsplit(".", 1)[0]
            there = await asyncio.to_thread(self._already_there, stem, story)
            if there is not None:
                found.append(there)
                self.report.skipped.append(there)
            else:
                wanted.append((quadrant, stem, story))
        saved: list[Path] = []
        if wanted:
            await self.source.fetch_image(task)  # from the cache when it is there
            key = self.source.image_key(task)
            for quadrant, stem, story in wanted:
                path = await asyncio.to_thread(
                    self.source.images.export,
                    key,
                    self.folder,
                    stem,
                    quadrant=quadrant,
                    story=story,
                    sidecar=self.sidecar,
                )
                saved.append(path)
                self.report.saved.append(path)  # kept even if a later cell fails
        return found, saved


async def _each(tasks: Iterable[Task] | AsyncIterable[Task]) -> AsyncIterator[Task]:
    if isinstance(tasks, AsyncIterable):
        async for task in tasks:
            yield task
    else:
        for task in tasks:
            yield task


async def export_many(
    source: ExportSource,
    tasks: Iterable[Task] | AsyncIterable[Task],
    folder: Path,
    *,
    upscales_only: bool = False,
    quadrants: bool = False,
    sidecar: bool = False,
    on_progress: Callable[[ExportProgress], None] | None = None,
    total: int | None = None,
    concurrency: int = CONCURRENCY,
) -> ExportReport:
    """Save each task's picture (or a grid's four cells with `quadrants`) into `folder`.

    Raises FolderError before anything is fetched when `folder` cannot be made or written;
    everything after that is in the report. `on_progress` is called on the event loop
    once per task; `total` is how many tasks a stream will bring, when the caller knows
    (a collection is counted). A task that appears twice is exported once."""
    folder = await asyncio.to_thread(check_writable, Path(folder))
    try:
        index = await asyncio.to_thread(_index, folder)
    except OSError as exc:
        raise FolderError(f"Cannot list the files in {folder} ({exc.strerror or exc}).") from None
    if total is None and isinstance(tasks, Sized) and isinstance(tasks, Iterable):
        total = len({task.id for task in tasks})
    run = _Run(
        source,
        folder,
        upscales_only=upscales_only,
        quadrants=quadrants,
        sidecar=sidecar,
        on_progress=on_progress,
        total=total,
        index=index,
    )
    seen: set[str] = set()
    slots = asyncio.Semaphore(max(1, concurrency))
    async with asyncio.TaskGroup() as group:
        try:
            async for task in _each(tasks):
                if run.report.stopped is not None:
                    break
                if task.id in seen:
                    continue
                seen.add(task.id)
                await slots.acquire()
                if run.report.stopped is not None:  # decided while this one waited for a slot
                    slots.release()
                    break
                group.create_task(run.one(task)).add_done_callback(lambda _: slots.release())
        except MjError as exc:
            # the caller's tasks stopped coming (a page of a search could not be read): what
            # was started finishes, and the report says why the rest is missing
            run.report.stopped = f"Could not read more tasks to export: {exc.message}"
    report = run.report
    report.saved.sort()
    report.skipped.sort()
    return report
