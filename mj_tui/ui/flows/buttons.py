"""Pressing a task's buttons, and the second (modal) step some of them need.

Vary (Region) opens the region editor first; Custom Zoom and Remix ask for a prompt when
the server wants one. One modal dialog is open at a time: tasks that ask meanwhile wait
in the session's queue. The same button pressed again before the first press came back
is not sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...core.models import Action, Button, ButtonKind, Mode, Status, Task
from ..text import clean
from .base import Flow

if TYPE_CHECKING:
    from ..screens.region import RegionResult

MODAL_TITLES = {
    ButtonKind.CUSTOM_ZOOM: (
        "Custom Zoom",
        "Edit the prompt; --zoom 1 to 2 sets how far to zoom out (--ar may change too).",
    ),
    ButtonKind.DESCRIBE_PICK: ("Imagine", "Midjourney asks for the prompt to imagine. Edit it or send it as it is."),
    ButtonKind.SHORTEN_PICK: ("Imagine", "Midjourney asks for the prompt to imagine. Edit it or send it as it is."),
}
REMIX = ("Remix", "Midjourney wants the prompt for this step (Remix mode). Edit it or send it as it is.")


class Buttons(Flow):
    def press(self, task: Task, button: Button) -> None:
        self.run(self._press_checked(task, button), group="press")

    def press_with_prompt(self, task: Task, button: Button, prompt: str) -> None:
        """A button whose modal step takes this prompt (a describe/shorten pick)."""
        self.run(self._press(task, button, prompt=prompt), group="press")

    async def _press_checked(self, task: Task, button: Button) -> None:
        if button.kind == ButtonKind.VARY_REGION:
            await self._ask_region(task, button)
            return
        service = await self.ready()
        capabilities = service.capabilities
        if button.kind == ButtonKind.CUSTOM_ZOOM and not capabilities.modal_step:
            # OhMyGPT has no dialog step to take the --zoom value: never send a press it refuses
            self.notify(
                f"{capabilities.label} has no Custom Zoom (it has no dialog step). Zoom Out 2x / 1.5x work.",
                title="Custom Zoom",
                severity="warning",
                timeout=6,
            )
            return
        await self._press(task, button)

    async def _press(self, task: Task, button: Button, *, prompt: str | None = None, mask: str | None = None) -> None:
        session = self.session
        key = (task.id, button.custom_id)
        if key in session.pressing:
            return  # the same button again before the first press came back
        session.pressing.add(key)
        try:
            # with nothing given, a modal step comes back to us: with Remix on the person edits
            # the prompt (that is what Remix is for); with a region's mask and prompt it goes now
            given = prompt is not None or mask is not None
            outcome = await (await self.ready()).press(task, button, prompt=prompt, mask=mask, auto_modal=given)
        finally:
            session.pressing.discard(key)
        self.screen.connection.task_added(outcome.task)
        if outcome.modal_required:
            self.ask_modal(outcome.task, outcome.final_prompt, button)

    # -- Vary (Region) ----------------------------------------------------------------
    async def _region_dialog(
        self, image_of: Task, title: str, prompt: str, mode: Mode | None, done: Callable[[RegionResult | None], None]
    ) -> None:
        """Open the mask editor over `image_of`'s picture; `done(result or None)` when it closes.

        The dialog is pushed with a callback rather than awaited, so no worker stays
        busy while the person selects (waits for workers to finish still finish)."""
        from ..screens.region import RegionDialog, load_for_editor

        service = await self.ready()
        path = await service.fetch_image(image_of)
        picture = await asyncio.to_thread(load_for_editor, path)  # decode + shrink: off the event loop
        capabilities = service.capabilities
        # OhMyGPT's action takes the mask alone: the region is repainted with the task's prompt
        fixed = "" if capabilities.modal_step else f"Prompt ({capabilities.label} keeps the task's own)"
        price = self.session.price_text(Action.VARIATION, mode)
        self.screen.app.push_screen(RegionDialog(title, prompt, picture, price=price, prompt_fixed=fixed), done)

    async def _ask_region(self, task: Task, button: Button) -> None:
        def done(result: RegionResult | None) -> None:
            if result is not None:
                self.run(self._vary_region(task, button, result), group="press")

        title = f"{clean(button.display, one_line=True)} · task #{clean(task.id)}"
        await self._region_dialog(task, title, clean(task.final_prompt or task.prompt), task.mode, done)

    async def _vary_region(self, task: Task, button: Button, result: RegionResult) -> None:
        from ..screens.region import mask_data_uri

        path = await (await self.ready()).fetch_image(task)
        # the mask at the image's own resolution; PNG encoding: off the event loop
        mask = await asyncio.to_thread(mask_data_uri, path, result.boxes)
        await self._press(task, button, prompt=result.prompt or None, mask=mask)

    async def _region_modal(self, task: Task) -> None:
        """A Vary (Region) task waiting in MODAL (its mask was never sent): select again, send."""
        parent: Task | None = None

        def done(result: RegionResult | None) -> None:
            self._modal_closed()
            if result is None:
                self.notify(f"Task #{clean(task.id)} waits for its areas: press enter on it to select them.", timeout=4)
            elif parent is not None:
                self.run(self._submit_region_modal(task, parent, result), group="press")

        try:
            service = await self.ready()
            parent = service.get_cached(task.parent_id) if task.parent_id else None
            if parent is None and task.parent_id:
                parent = await service.refresh(task.parent_id)
            if parent is None:
                self.notify(f"Task #{clean(task.id)} waits for a mask, but its picture is unknown.", severity="warning")
                self._modal_closed()
                return
            await self._region_dialog(
                parent,
                f"Vary (Region) · task #{clean(task.id)}",
                clean(task.final_prompt or task.prompt),
                task.mode,
                done,
            )
        except BaseException:
            self._modal_closed()  # no dialog came up: the next modal may
            raise

    async def _submit_region_modal(self, task: Task, parent: Task, result: RegionResult) -> None:
        from ..screens.region import mask_data_uri

        service = await self.ready()
        path = await service.fetch_image(parent)
        mask = await asyncio.to_thread(mask_data_uri, path, result.boxes)
        updated = await service.submit_modal(task, result.prompt or task.final_prompt or task.prompt, mask=mask)
        self._modal_sent(task, updated)

    # -- the modal step ---------------------------------------------------------------
    def dismiss(self) -> None:
        """The selected task waits for a prompt nobody will send: stop waiting for it."""
        screen = self.screen
        task = screen.tasks.current
        service = self.session.service
        if task is not None and task.status.in_flight and service is not None:
            screen.media.cancel(task)  # running at the provider: cancelled there, where it can be
            return
        if task is None or task.status not in (Status.MODAL, Status.UNCONFIRMED) or service is None:
            self.notify(
                "Only a running task (cancelled at the provider), one that waits for its prompt, "
                "or one not confirmed can be stopped here.",
                severity="warning",
                timeout=3,
            )
            return
        self.session.modal_queue[:] = [t for t in self.session.modal_queue if t.id != task.id]
        screen.tasks.update_task(service.dismiss(task.id))
        self.notify(f"#{clean(task.id)} no longer waits here.", timeout=3)

    def ask_modal(self, task: Task, prompt: str | None = None, button: Button | None = None) -> None:
        """Open the prompt dialog for a task waiting on a modal step (one at a time)."""
        from ...core import pricing
        from ...core.prompt import modal_problem
        from ..screens.modal_prompt import PromptDialog

        session = self.session
        if session.modal_open:
            if all(t.id != task.id for t in session.modal_queue):
                session.modal_queue.append(task)
            return
        session.modal_open = True
        origin = Button(task.origin_custom_id) if task.origin_custom_id else None
        kind = button.kind if button is not None else (origin.kind if origin is not None else None)
        if kind == ButtonKind.VARY_REGION:
            self.run(self._region_modal(task), group="press")  # a mask, not only a prompt
            return
        title, text = MODAL_TITLES.get(kind, REMIX) if kind else REMIX
        custom_zoom = kind == ButtonKind.CUSTOM_ZOOM

        def done(result: str | None) -> None:
            self._modal_closed()
            if result is not None:
                self.run(self._submit_modal(task, result), group="press")
            else:
                self.notify(f"Task #{clean(task.id)} waits for its prompt: press enter on it to send one.", timeout=4)

        # the server's text goes into an editable box: made safe first, like every server text
        prompt = clean(prompt or task.final_prompt or task.prompt)
        if custom_zoom and "--zoom" not in prompt:
            prompt = f"{prompt} --zoom 2"  # Custom Zoom needs one; 2 is Zoom Out 2x
        action = (pricing.action_for_button(origin) if origin is not None else None) or Action.IMAGINE
        cost = self.session.price_text(action, task.mode)
        note = f"Sending starts a paid job, {cost}." if cost else ""
        self.screen.app.push_screen(
            PromptDialog(
                f"{title} · task #{clean(task.id)}",
                text,
                prompt,
                validate=lambda text: modal_problem(text, custom_zoom=custom_zoom),
                note=note,
            ),
            done,
        )

    def _modal_closed(self) -> None:
        """One modal dialog is done: open the next one waiting, if any."""
        session = self.session
        session.modal_open = False
        if session.modal_queue:
            self.ask_modal(session.modal_queue.pop(0))

    async def _submit_modal(self, task: Task, prompt: str) -> None:
        updated = await (await self.ready()).submit_modal(task, prompt)
        self._modal_sent(task, updated)

    def _modal_sent(self, task: Task, updated: Task) -> None:
        if updated.id != task.id or not self.screen.tasks.update_task(updated):
            self.screen.connection.task_added(updated)
        self.session.changed()
