"""Blend and describe (image files from disk), shorten, and the prompts they suggest.

A describe or shorten sent here announces itself when it finishes: its prompts open in a
picker (or a toast says they are ready, when the person is busy elsewhere). Picking one
presses the task's own numbered button where it has one, which keeps the lineage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.widgets import Input, TextArea

from ...core.models import Action, ButtonKind, Mode, Task
from ...core.results import suggested_prompts
from ...core.uploads import image_data_uri
from ..text import clean
from .base import Flow

if TYPE_CHECKING:
    from ..screens.pick_images import Picked
    from ..screens.pick_prompt import PromptChoice


class Files(Flow):
    def _start_dir(self) -> Path:
        return self.session.pick_root or Path.cwd()

    def _pick(
        self,
        title: str,
        action: Action,
        explanation: str,
        then: Callable[[Picked, Mode | None], Coroutine[Any, Any, None]],
        *,
        least: int,
        most: int,
        shapes: bool = False,
    ) -> None:
        """The file picker for `action`; `then(picked, mode)` runs as a worker once sent."""
        from ..screens.pick_images import PickImagesDialog

        mode = self.screen.composer.mode
        dialog = PickImagesDialog(
            title,
            self._start_dir(),
            least=least,
            most=most,
            shapes=shapes,
            price=self.session.price_text(action, mode),
            explanation=explanation,
        )

        def picked(result: Picked | None) -> None:
            if result is not None:
                self.session.pick_root = result.folder  # the next picker opens here
                self.run(then(result, mode), group="submit")

        self.screen.app.push_screen(dialog, picked)

    # -- blend ------------------------------------------------------------------------
    def blend(self) -> None:
        self._pick(
            "Blend · 2 to 5 images into one grid",
            Action.BLEND,
            "enter on a file picks it · tab: picked list, path box, shape · ctrl+j sends",
            lambda picked, mode: self._blend([str(p) for p in picked.paths], picked.dimensions or "SQUARE", mode),
            least=2,
            most=5,
            shapes=True,
        )

    async def _blend(self, paths: list[str], dimensions: str, mode: Mode | None) -> None:
        images = [await asyncio.to_thread(image_data_uri, path) for path in paths]
        task = await (await self.ready()).blend(images, dimensions=dimensions, mode=mode)
        self.screen.connection.task_added(task)

    # -- describe ---------------------------------------------------------------------
    def describe(self) -> None:
        self._pick(
            "Describe · four prompts for an image",
            Action.DESCRIBE,
            "enter on a file picks it, or type its path · ctrl+j sends",
            lambda picked, mode: self._describe(str(picked.paths[0]), mode),
            least=1,
            most=1,
        )

    async def _describe(self, path: str, mode: Mode | None) -> None:
        image = await asyncio.to_thread(image_data_uri, path)
        task = await (await self.ready()).describe(image, mode=mode)
        self.session.suggest_ids.add(task.id)
        self.screen.connection.task_added(task)

    # -- shorten (midjourney-proxy) ---------------------------------------------------
    def shorten_reason(self) -> str | None:
        """Why /shorten is unavailable here, or None."""
        capabilities = self.session.capabilities
        if capabilities is not None and not capabilities.shorten:
            return f"{capabilities.label} does not offer /shorten; midjourney-proxy providers do."
        if capabilities is None and self.session.launch.profile.provider.value != "mjproxy":
            return "OhMyGPT does not offer /shorten; midjourney-proxy providers do."
        return None

    def shorten(self) -> None:
        reason = self.shorten_reason()
        if reason:
            self.notify(reason, title="Shorten", severity="warning", timeout=5)
            return
        composer = self.screen.composer
        prompt = composer.text_area.text.strip()
        if not prompt:
            self.notify("Type the prompt to shorten in the prompt box first.", severity="warning", timeout=3)
            self.screen.set_focus(composer.text_area)
            return
        self.run(self._shorten(prompt, composer.mode), group="submit")

    async def _shorten(self, prompt: str, mode: Mode | None) -> None:
        task = await (await self.ready()).shorten(prompt, mode=mode)
        self.session.suggest_ids.add(task.id)
        self.screen.connection.task_added(task)
        # the box's prompt is what is being shortened: wait on the list, where the five
        # shorter ones open as soon as they are ready
        self.screen.set_focus(self.screen.tasks)

    # -- the prompts a describe or shorten suggests ------------------------------------
    def announces_itself(self, task: Task) -> bool:
        """A task whose finishing opens its own dialog or toast (a describe/shorten sent here)."""
        return task.id in self.session.suggest_ids

    def prompts_ready(self, task: Task) -> None:
        """A describe or shorten sent here finished: offer its prompts now, or say they wait."""
        self.session.suggest_ids.discard(task.id)
        screen = self.screen
        typing = isinstance(screen.app.focused, (TextArea, Input))
        current = screen.tasks.current
        if screen.app.screen is screen and not typing and current is not None and current.id == task.id:
            self.offer_prompts(task)  # the dialog is the news: no toast over its buttons
        else:
            self.notify(
                f"#{clean(task.id)}: select it in the task list and press enter to pick one.",
                title="Prompts ready",
                timeout=6,
            )

    def offer_prompts(self, task: Task) -> bool:
        """The prompts of a finished describe/shorten; False if it has none."""
        from ..screens.pick_prompt import PickPromptDialog

        prompts = suggested_prompts(task)
        if not prompts:
            return False
        what = "Describe" if task.action.upper() == Action.DESCRIBE else "Shorten"
        explanation = (
            f"enter: into the prompt box to edit · ctrl+j: imagine it now · 1-{len(prompts)} picks · esc closes"
        )
        dialog = PickPromptDialog(
            f"{what} · task #{clean(task.id)}",
            explanation,
            prompts,
            price=self.session.price_text(Action.IMAGINE, task.mode),
        )

        def chosen(choice: PromptChoice | None) -> None:
            if choice is not None:
                self._use_prompt(task, choice)

        screen = self.screen
        screen.app.clear_notifications()  # "prompts ready" has done its job; it would cover the list
        screen.app.push_screen(dialog, chosen)
        return True

    def _use_prompt(self, task: Task, choice: PromptChoice) -> None:
        screen = self.screen
        if choice.then == "compose":
            area = screen.composer.text_area
            area.text = clean(choice.prompt)
            area.move_cursor(area.document.end)
            screen.set_focus(area)
            self.notify("In the prompt box: edit it, then ctrl+j.", timeout=3)
            return
        # the task's own numbered button keeps the lineage (and is Midjourney's way)
        kinds = (ButtonKind.DESCRIBE_PICK, ButtonKind.SHORTEN_PICK)
        button = next(
            (b for b in task.buttons if b.kind in kinds and b.custom_id.rsplit("::", 1)[-1] == str(choice.index)),
            None,
        )
        if button is not None:
            screen.buttons.press_with_prompt(task, button, choice.prompt)
        else:
            screen.prompts.imagine(choice.prompt, task.mode, [])
