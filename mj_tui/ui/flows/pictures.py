"""Keeping and sharing a picture: save it (or the zoomed quadrant), copy its link or its
prompt (OSC 52, which works over SSH), open it in a browser."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ...core.config import data_dir
from ...core.models import Status, Task
from ...core.results import download_dir
from ..text import clean
from .base import Flow, short


class Pictures(Flow):
    def _picture_task(self) -> Task | None:
        task = self.screen.tasks.current
        if task is None:
            self.notify("Select a task first.", severity="warning", timeout=2)
            return None
        if task.status != Status.SUCCESS or not (task.image_urls or task.image_url):
            self.notify("The selected task has no finished image.", severity="warning", timeout=3)
            return None
        return task

    def quadrant_of(self, task: Task) -> int | None:
        """The quadrant the preview is zoomed into, if it shows this grid."""
        return self._quadrant(task)

    def _quadrant(self, task: Task) -> int | None:
        """The quadrant the preview is zoomed into, if it shows this grid."""
        preview = self.screen.preview
        shown = preview.shown_task
        if shown is not None and shown.id == task.id and task.is_grid:
            return preview.quadrant
        return None

    def save_folder(self) -> Path:
        return download_dir(self.session.launch.config.download_dir)

    # -- save -------------------------------------------------------------------------
    def save(self) -> None:
        task = self._picture_task()
        if task is not None:
            self.save_task(task, self._quadrant(task))

    def save_task(self, task: Task, quadrant: int | None = None) -> None:
        """Save `task`'s picture (or one quadrant of its grid), with a toast saying where."""
        self.run(self._save(task, quadrant), group="save")

    async def _save(self, task: Task, quadrant: int | None) -> None:
        service = await self.ready()
        if task.is_video and task.video_urls:
            await self._save_videos(task)
            return
        saved = await service.export(task, self.save_folder(), quadrant=quadrant)
        what = f"Quadrant {quadrant}" if quadrant else "The image"
        self.notify(f"{what} of #{clean(task.id)} is in\n{saved}", title="Saved", timeout=8)

    async def _save_videos(self, task: Task) -> None:
        """Every video of the task (a batch holds 1, 2 or 4), each with its story."""
        service = await self.ready()
        paths = []
        for index in range(1, len(task.video_urls) + 1):
            saved = await service.save_video(task, self.save_folder(), index=index)
            paths.append(
                str(saved.path) + ("" if saved.embedded or saved.sidecar is None else f" (+ {saved.sidecar.name})")
            )
        what = "The video" if len(paths) == 1 else f"{len(paths)} videos"
        self.notify(f"{what} of #{clean(task.id)}:\n" + "\n".join(paths), title="Saved", timeout=8)

    # -- copy -------------------------------------------------------------------------
    def copy_text(self, text: str, what: str) -> None:
        """Copy `text` (OSC 52, and a file where that may not arrive), saying what it was."""
        self._copy(text, what)

    def _copy(self, text: str, what: str) -> None:
        from ..share import TMUX_HINT, copy_text, in_tmux

        # the user's data folder even in the demo (whose own folder goes when it quits)
        written = copy_text(self.screen.app, text, data_dir() / "clipboard.txt")
        hint = f"\nNothing pasted? {TMUX_HINT}." if in_tmux() else ""
        where = f"\nAlso in {written}" if written else ""
        self.notify(f"{short(text, 120)}{hint}{where}", title=f"Copied {what}", timeout=8)

    def copy_url(self) -> None:
        task = self._picture_task()
        if task is not None and task.is_video and task.video_urls:
            many = len(task.video_urls) > 1
            self._copy("\n".join(task.video_urls), "the video URLs" if many else "the video URL")
        elif task is not None:
            self._copy(task.image_url or task.image_urls[0], "the image URL")

    def copy_prompt(self) -> None:
        task = self.screen.tasks.current
        if task is None:
            self.notify("Select a task first.", severity="warning", timeout=2)
            return
        text = task.final_prompt or task.prompt
        if not text.strip():
            self.notify("The selected task has no prompt.", severity="warning", timeout=3)
            return
        self._copy(text, "the prompt")

    # -- open -------------------------------------------------------------------------
    def open(self) -> None:
        task = self._picture_task()
        if task is not None:
            self.run(self._open(task, self._quadrant(task)), group="open")

    async def _open(self, task: Task, quadrant: int | None) -> None:
        from ..share import open_in_browser

        url = task.image_url or task.image_urls[0]
        service = await self.ready()
        if task.is_video and task.video_urls:
            url = task.video_urls[0]
            if self.session.launch.demo:  # the demo's server is in this process: open the saved file
                url = (await service.save_video(task, self.save_folder())).path.resolve().as_uri()
        elif self.session.launch.demo or not url.startswith(("http://", "https://")):
            # the demo's emulator is in this process: a browser could not reach its URLs
            url = (await service.fetch_image(task)).resolve().as_uri()
        reason = await asyncio.to_thread(open_in_browser, url)
        if reason is None:
            self.notify(f"Opened #{clean(task.id)} in the browser.", timeout=3)
            return
        # o pressed twice saves once: a copy already saved under its own name is reused
        earlier = self.save_folder() / service.export_name(task, quadrant)
        saved = earlier if await asyncio.to_thread(earlier.is_file) else None
        saved = saved or await service.export(task, self.save_folder(), quadrant=quadrant)
        link = task.image_url or task.image_urls[0]
        self.notify(
            f"No browser: {reason}.\nThe image is saved at {saved}\n{short(link, 120)}",
            title="Open image",
            severity="warning",
            timeout=10,
        )
