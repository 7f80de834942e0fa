"""Today's Midjourney from the TUI: a video of a picture, edit and retexture, the seed.

Each asks for what it needs in one line, sends once through the service (journalled
like any paid request), and puts the new task on the list like a prompt's. A provider
without the feature (OhMyGPT has none of these) says why when asked, before anything
is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from ...core.models import Status, Task
from ..text import clean
from .base import Flow, short

# the video options a person may type after the prompt (the rest is the prompt)
_MOTION = re.compile(r"(?:^|\s)--motion\s+(low|high)\b", re.IGNORECASE)
_LOOP = re.compile(r"(?:^|\s)--loop\b", re.IGNORECASE)
_BATCH = re.compile(r"(?:^|\s)--bs\s+([124])\b")
_HD = re.compile(r"(?:^|\s)--hd\b", re.IGNORECASE)
_END = re.compile(r"(?:^|\s)--end\s+(https?://\S+)", re.IGNORECASE)


def video_options(text: str) -> dict[str, object]:
    """ "waves crash --motion high --loop --bs 2" → the prompt and the video's options."""
    options: dict[str, object] = {}
    if found := _MOTION.search(text):
        options["motion"] = found.group(1).lower()
    if _LOOP.search(text):
        options["loop"] = True
    if found := _BATCH.search(text):
        options["batch"] = int(found.group(1))
    if _HD.search(text):
        options["hd"] = True
    if found := _END.search(text):
        options["end"] = found.group(1)
    for pattern in (_MOTION, _LOOP, _BATCH, _HD, _END):
        text = pattern.sub(" ", text)
    options["prompt"] = " ".join(text.split())
    return options


class Media(Flow):
    def _picture(self) -> tuple[Task, int | None] | None:
        """The selected finished picture, and the quadrant the preview is zoomed into."""
        task = self.screen.tasks.current
        if task is None or task.status != Status.SUCCESS or not (task.image_url or task.image_urls):
            self.notify("Select a finished picture first.", severity="warning", timeout=3)
            return None
        quadrant = self.screen.pictures.quadrant_of(task)
        if task.is_grid and quadrant is None:
            self.notify(
                "This is a grid of four: zoom into one (1-4) first, or upscale it.", severity="warning", timeout=4
            )
            return None
        return task, quadrant

    def _offered(self, what: str, available: bool | None) -> bool:
        capabilities = self.session.capabilities
        if capabilities is not None and available is False:
            self.notify(f"{capabilities.label} has no {what}.", title="Not available", severity="warning", timeout=5)
            return False
        return True

    # -- video ------------------------------------------------------------------------
    def video(self) -> None:
        from ..screens.ask import AskDialog

        capabilities = self.session.capabilities
        if not self._offered("video", capabilities.video if capabilities else None):
            return
        chosen = self._picture()
        if chosen is None:
            return
        task, quadrant = chosen

        def answer(text: str | None) -> None:
            if text is not None:
                self.run(self._video(task, quadrant, text), group="submit")

        where = f" (quadrant {quadrant})" if quadrant else ""
        self.screen.app.push_screen(
            AskDialog(
                f"Video of #{clean(task.id)}{where}",
                "What moves (optional), then any of --motion low|high, --loop, --bs 1|2|4, --hd, --end URL.",
                placeholder="the waves roll in --motion high",
            ),
            answer,
        )

    async def _video(self, task: Task, quadrant: int | None, text: str) -> None:
        options = video_options(text)
        service = await self.ready()
        made = await service.video(
            task,
            prompt=str(options.get("prompt", "")),
            motion=str(options.get("motion", "low")),
            loop=bool(options.get("loop", False)),
            batch=int(options.get("batch", 4)),  # type: ignore[call-overload]
            hd=bool(options.get("hd", False)),
            end=options.get("end"),  # type: ignore[arg-type]
            mode=task.mode,
            quadrant=quadrant,
        )
        self.screen.connection.task_added(made)

    # -- edit and retexture -----------------------------------------------------------
    def edit(self, retexture: bool = False) -> None:
        from ..screens.ask import AskDialog

        capabilities = self.session.capabilities
        what = "retexture" if retexture else "edit"
        if not self._offered(what, capabilities.edit if capabilities else None):
            return
        chosen = self._picture()
        if chosen is None:
            return
        task, quadrant = chosen

        def answer(text: str | None) -> None:
            if text and text.strip():
                self.run(self._edit(task, quadrant, text.strip(), retexture), group="submit")

        def problem(text: str) -> str | None:
            return None if text.strip() else "Say what it should become."

        where = f" (quadrant {quadrant})" if quadrant else ""
        question = (
            "New surfaces for the same shapes: materials, light, style."
            if retexture
            else "What to change: the picture is redrawn as the prompt says."
        )
        self.screen.app.push_screen(
            AskDialog(
                f"{what.capitalize()} #{clean(task.id)}{where}",
                question,
                value=task.prompt if not retexture else "",
                validate=problem,
            ),
            answer,
        )

    async def _edit(self, task: Task, quadrant: int | None, prompt: str, retexture: bool) -> None:
        service = await self.ready()
        send = service.retexture if retexture else service.edit
        made = await send(task, prompt, mode=task.mode, quadrant=quadrant)
        self.screen.connection.task_added(made)

    # -- cancel -----------------------------------------------------------------------
    def cancel(self, task: Task) -> None:
        """Cancel a running task at the provider, after a question (where the dialect can;
        else it says why and the job goes on)."""
        from ..screens.confirm import ConfirmDialog

        capabilities = self.session.capabilities
        label = capabilities.label if capabilities else "The provider"
        service = self.session.service
        if service is not None and not service.provider.supports_cancel:
            self.notify(
                f"{label} has no way to cancel a job: it runs to the end (and is billed as usual).",
                title="Cannot cancel",
                severity="warning",
                timeout=6,
            )
            return

        def answer(yes: bool | str | None) -> None:
            if yes:
                self.run(self._cancel(task), group="cancel")

        self.screen.app.push_screen(
            ConfirmDialog(
                "Cancel this job?",
                f"“{short(task.prompt, 100)}” is {task.status.value.lower().replace('_', ' ')} at the provider. "
                "Cancelled there, it stops and is not billed (many servers let only their admins cancel).",
                yes="Cancel it",
                no="Keep it",
            ),
            answer,
        )

    async def _cancel(self, task: Task) -> None:
        service = await self.ready()
        stopped = await service.cancel(task.id)
        job = service.job_queue.job_for_task(service.namespace, task.id)
        if job is not None and job.state.active:
            service.job_queue.cancel(job.id, "cancelled at the provider")
        self.screen.tasks.update_task(stopped)
        self.notify(f"#{clean(task.id)} was cancelled at the provider.", title="Cancelled", timeout=4)

    # -- seed -------------------------------------------------------------------------
    def seed(self) -> None:
        task = self.screen.tasks.current
        if task is None or task.status != Status.SUCCESS:
            self.notify("Select a finished task first.", severity="warning", timeout=3)
            return
        if task.seed:  # known already: no request
            self._show_seed(task, task.seed)
            return
        capabilities = self.session.capabilities
        if not self._offered("seed lookup", capabilities.seed if capabilities else None):
            return
        self.run(self._seed(task), group="seed")

    async def _seed(self, task: Task) -> None:
        service = await self.ready()
        seed = await service.seed(task)
        stored = service.get_cached(task.id) or task
        self.screen.tasks.update_task(stored)
        self._show_seed(stored, seed)

    def _show_seed(self, task: Task, seed: str) -> None:
        self.screen.pictures.copy_text(seed, f"the seed of #{short(task.id, 24)}")

    def palette(self) -> list[tuple[str, str, Callable[[], object]]]:
        """The palette's entries; a feature the provider lacks says so in its help."""
        capabilities = self.session.capabilities
        label = capabilities.label if capabilities else "This provider"

        def why(available: bool | None, text: str) -> str:
            return text if available is not False else f"{label} has none: {text.lower()}"

        video = capabilities.video if capabilities else None
        edit = capabilities.edit if capabilities else None
        seed = capabilities.seed if capabilities else None
        return [
            ("Video of this picture…", why(video, "Animate it: a prompt, motion, loop, batch"), self.video),
            ("Edit this picture…", why(edit, "Redraw it as a prompt says"), self.edit),
            ("Retexture this picture…", why(edit, "Same shapes, new surfaces"), partial(self.edit, True)),
            ("Show the seed", why(seed, "The job's seed, copied (S)"), self.seed),
        ]
