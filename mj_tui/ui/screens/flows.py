"""What comes after the first grid: blend, describe, shorten, permutations, keeping
and sharing pictures, and walking a task's lineage.

A mixin of the main screen, like :mod:`.jobs` (whose workers it builds on): the
dialogs open here, the service calls run in workers, and what the person should
know ends as a toast or in a pane.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work
from textual.screen import Screen
from textual.widgets import Input, TextArea

from ...core import pricing
from ...core.config import data_dir
from ...core.errors import MjError
from ...core.models import Button, ButtonKind, Mode, Status, Task
from ...core.results import download_dir, origin_name, suggested_prompts
from ...core.uploads import image_data_uri
from ..text import clean

# dialogs, the prompt parser, the image cache (httpx) and webbrowser load on first use:
# none of them is needed for the first frame

CONFIRM_OVER = 4  # more paid jobs than this at once asks first


def short(text: str, limit: int = 48) -> str:
    text = clean(text, one_line=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Flows(Screen):
    """Needs the Jobs mixin and the main screen's panes (tasks, composer, preview)."""

    #: where the file pickers open: the folder last picked from (at first, the one mj-tui started in)
    pick_root: Path | None = None

    def init_flows(self) -> None:
        self._suggest_ids: set[str] = set()  # describe/shorten tasks sent here: offer their prompts when done
        # a permutation sent in part: (the box's text, the prompts not sent yet); ctrl+j on
        # the same text sends those, never the ones already sent
        self._rest: tuple[str, list[str]] | None = None

    # -- money ------------------------------------------------------------------------
    def price_of(self, action: str, mode: Mode | None, jobs: int = 1) -> int | None:
        """Tokens for `jobs` jobs of `action`, or None where the provider publishes no prices."""
        if self.service is not None:
            each = self.service.price(action, mode)
        else:
            each = pricing.price(self.launch.profile.provider, action, mode)
        return each * jobs if each else None

    def price_text(self, action: str, mode: Mode | None, jobs: int = 1) -> str:
        cost = self.price_of(action, mode, jobs)
        return f"≈{cost:,} tok" if cost else ""

    # -- prompts, one or many ---------------------------------------------------------
    def submit_prompt(self, prompt: str, mode: Mode | None, paths: list[str]) -> None:
        """Expand {a, b} permutations locally; ask before more than 4 paid jobs."""
        from ...core.prompt import PromptError, expand_permutations, job_count
        from .confirm import ConfirmDialog

        try:
            prompts = expand_permutations(prompt)
        except PromptError as exc:
            self.notify(str(exc), title="Prompt not sent", severity="error", markup=False)
            return
        already = 0
        if self._rest is not None and self._rest[0] == prompt and len(prompts) > 1:
            already = len(prompts) - len(self._rest[1])
            prompts = self._rest[1]
        jobs = job_count(prompt) * len(prompts) // max(1, len(prompts) + already)
        free = self.queue_room()
        # several prompts that cannot all fit: offer the ones that fit, or all of them (the
        # limit is the profile's guess until the server refuses one). One prompt simply goes:
        # the server is the judge, and a refusal keeps the prompt in the box.
        overflow = len(prompts) > 1 and free is not None and len(prompts) > free
        if jobs <= CONFIRM_OVER and not overflow:
            self._send_prompts(prompt, prompts, mode, paths)
            return
        cost = self.price_text("IMAGINE", mode, jobs)
        lines = []
        if already:
            lines.append(f"{already} of these prompts were sent before; these are the {len(prompts)} left.")
        lines.append(
            f"This makes {jobs} jobs"
            + (f" ({len(prompts)} prompts)" if len(prompts) > 1 else "")
            + (f", about {cost[1:]}" if cost else "")
            + ". Each is a paid request."
        )
        fit = min(free, len(prompts)) if overflow and free else 0
        if overflow:
            lines.append(
                f"Your queue has room for {free} now (queue_limit {self.queue_limit_text()}): "
                + (
                    f"'Send {fit}' sends those and keeps the rest for the next ctrl+j."
                    if fit
                    else "the server would refuse them until a job finishes."
                )
            )
        lines += [f"  {i}. {short(p, 64)}" for i, p in enumerate(prompts[:6], 1)]
        if len(prompts) > 6:
            lines.append(f"  … and {len(prompts) - 6} more")

        def answer(choice: bool | str | None) -> None:
            if choice == "alt" or (choice is True and not fit):
                self._send_prompts(prompt, prompts, mode, paths)
            elif choice is True:
                self._send_prompts(prompt, prompts[:fit], mode, paths, rest=prompts[fit:])
            else:
                self.notify("Nothing was sent.", timeout=3)

        if fit:
            dialog = ConfirmDialog(
                f"Send {fit} of {len(prompts)} prompts?",
                "\n".join(lines),
                yes=f"Send {fit}",
                alt=f"Send all {len(prompts)}",
            )
        else:
            dialog = ConfirmDialog(f"Send {jobs} jobs?", "\n".join(lines), yes=f"Send {jobs} jobs")
        self.app.push_screen(dialog, answer)

    def queue_limit_text(self) -> str:
        from ..widgets.header import AppHeader

        return str(self.query_one(AppHeader).queue_limit or "?")

    def queue_room(self) -> int | None:
        """How many more jobs the provider's queue takes now, where its limit is known."""
        from ..widgets.header import AppHeader

        header = self.query_one(AppHeader)
        if not header.queue_limit:
            return None
        return max(0, header.queue_limit - header.running)

    def _send_prompts(
        self, original: str, prompts: list[str], mode: Mode | None, paths: list[str], rest: list[str] | None = None
    ) -> None:
        resuming = self._rest is not None and self._rest[0] == original
        if len(prompts) == 1 and not rest and not resuming:
            self.imagine(prompts[0], mode, paths)
            if prompts[0] != original:  # whitespace only: still the box's prompt
                self.composer.history.add(original)
        else:
            self.imagine_many(original, prompts, mode, paths, rest or [])

    @work(group="submit", exit_on_error=False)
    async def imagine_many(
        self, original: str, prompts: list[str], mode: Mode | None, paths: list[str], rest: list[str]
    ) -> None:
        if self._sending:
            self.notify("Still sending the previous prompt…", severity="warning", timeout=2)
            return
        self._sending = True
        sent: list[Task] = []
        try:
            images = [await asyncio.to_thread(image_data_uri, path) for path in paths]
            service = await self.ready()
            for number, prompt in enumerate(prompts, 1):
                try:
                    task = await service.imagine(prompt, mode=mode, images=images)
                except MjError as exc:
                    limit = getattr(exc, "limit", None)
                    if limit:  # the header shows queue use against it from now on
                        from ..widgets.header import AppHeader

                        self.query_one(AppHeader).queue_limit = limit
                    left = prompts[number - 1 :] + rest
                    self._rest = (original, left)
                    # never resend: say what went and what did not
                    self.notify(
                        f"Sent {len(sent)} of {len(prompts)}; prompt {number} failed: {clean(str(exc))}\n"
                        f"The other {len(left)} were not sent; ctrl+j on the same text sends just those.",
                        title=exc.title,
                        severity="error",
                        timeout=12,
                        markup=False,
                    )
                    break
                sent.append(task)
                self._show_new(task)
        finally:
            self._sending = False
        if len(sent) < len(prompts):
            return
        if rest:
            self._rest = (original, rest)
            self.composer.history.add(original)
            self.notify(
                f"Sent {len(sent)}; {len(rest)} wait. ctrl+j on the same text sends the rest.",
                title="Submitted",
                timeout=8,
                markup=False,
            )
        else:
            self._rest = None
            self.composer.sent(original)
            self.notify(
                f"{len(sent)} prompt{'s' if len(sent) > 1 else ''} from {short(original, 40)}",
                title="Submitted",
                timeout=4,
                markup=False,
            )

    def _show_new(self, task: Task) -> None:
        """Like task_added, without a toast per task."""
        if self.tasks.page is not None and self.tasks.page.page != 1:
            self.tasks.show_page(self.service.cached_page(1), select=task.id)
        self.tasks.put_first(task)
        self._update_queue()

    # -- blend and describe -----------------------------------------------------------
    def _start_dir(self) -> Path:
        return self.pick_root or Path.cwd()

    def action_blend(self) -> None:
        from .pick_images import Picked, PickImagesDialog

        mode = self.composer.mode
        cost = self.price_text("BLEND", mode)
        dialog = PickImagesDialog(
            "Blend · 2 to 5 images into one grid",
            self._start_dir(),
            least=2,
            most=5,
            shapes=True,
            price=cost,
            explanation="enter on a file picks it · tab: picked list, path box, shape · ctrl+j sends",
        )

        def picked(result: Picked | None) -> None:
            if result is not None:
                self.pick_root = result.folder
                self.blend([str(p) for p in result.paths], result.dimensions or "SQUARE", mode)

        self.app.push_screen(dialog, picked)

    @work(group="submit", exit_on_error=False)
    async def blend(self, paths: list[str], dimensions: str, mode: Mode | None) -> None:
        images = [await asyncio.to_thread(image_data_uri, path) for path in paths]
        task = await (await self.ready()).blend(images, dimensions=dimensions, mode=mode)
        self.task_added(task, f"Blend of {len(paths)} images, {dimensions.lower()}")

    def action_describe(self) -> None:
        from .pick_images import Picked, PickImagesDialog

        mode = self.composer.mode
        dialog = PickImagesDialog(
            "Describe · four prompts for an image",
            self._start_dir(),
            least=1,
            most=1,
            price=self.price_text("DESCRIBE", mode),
            explanation="enter on a file picks it, or type its path · ctrl+j sends",
        )

        def picked(result: Picked | None) -> None:
            if result is not None:
                self.pick_root = result.folder
                self.describe(str(result.paths[0]), mode)

        self.app.push_screen(dialog, picked)

    @work(group="submit", exit_on_error=False)
    async def describe(self, path: str, mode: Mode | None) -> None:
        image = await asyncio.to_thread(image_data_uri, path)
        task = await (await self.ready()).describe(image, mode=mode)
        self._suggest_ids.add(task.id)
        self.task_added(task, f"Describe {Path(path).name}: its prompts open when done")

    # -- shorten (midjourney-proxy) ---------------------------------------------------
    def shorten_reason(self) -> str | None:
        """Why /shorten is unavailable here, or None."""
        provider = self.service.provider if self.service is not None else None
        if provider is not None and not provider.supports_shorten:
            return f"{provider.label} does not offer /shorten; midjourney-proxy providers do."
        if provider is None and self.launch.profile.provider.value != "mjproxy":
            return "OhMyGPT does not offer /shorten; midjourney-proxy providers do."
        return None

    def action_shorten(self) -> None:
        reason = self.shorten_reason()
        if reason:
            self.notify(reason, title="Shorten", severity="warning", timeout=5, markup=False)
            return
        prompt = self.composer.text_area.text.strip()
        if not prompt:
            self.notify("Type the prompt to shorten in the prompt box first.", severity="warning", timeout=3)
            self.set_focus(self.composer.text_area)
            return
        self.shorten(prompt, self.composer.mode)

    @work(group="submit", exit_on_error=False)
    async def shorten(self, prompt: str, mode: Mode | None) -> None:
        task = await (await self.ready()).shorten(prompt, mode=mode)
        self._suggest_ids.add(task.id)
        self.task_added(task, f"Shorten: {short(prompt)}")

    # -- suggestions (describe / shorten results) --------------------------------------
    def _announces_itself(self, task: Task) -> bool:
        return task.id in self._suggest_ids

    def _announce(self, task: Task) -> None:  # Jobs.poll calls this for every finished task
        if task.id not in self._suggest_ids or task.status != Status.SUCCESS:
            super()._announce(task)
            return
        self._suggest_ids.discard(task.id)
        focus = self.app.focused
        typing = isinstance(focus, (TextArea, Input))
        current = self.tasks.current
        if self.app.screen is self and not typing and current is not None and current.id == task.id:
            self.offer_prompts(task)  # the dialog is the news: no toast over its buttons
        else:
            self.notify(
                f"#{task.id}: press enter on it to pick a prompt.", title="Prompts ready", timeout=6, markup=False
            )

    def offer_prompts(self, task: Task) -> bool:
        """The prompts of a finished describe/shorten; False if it has none."""
        from .pick_prompt import PickPromptDialog, PromptChoice

        prompts = suggested_prompts(task)
        if not prompts:
            return False
        what = "Describe" if task.action.upper() == "DESCRIBE" else "Shorten"
        explanation = (
            f"enter: into the prompt box to edit · ctrl+j: imagine it now · 1-{len(prompts)} picks · esc closes"
        )
        dialog = PickPromptDialog(
            f"{what} · task #{task.id}", explanation, prompts, price=self.price_text("IMAGINE", task.mode)
        )

        def chosen(choice: PromptChoice | None) -> None:
            if choice is not None:
                self.use_prompt(task, choice)

        self.app.clear_notifications()  # "prompts ready" has done its job; it would cover the list
        self.app.push_screen(dialog, chosen)
        return True

    def use_prompt(self, task: Task, choice) -> None:
        if choice.then == "compose":
            area = self.composer.text_area
            area.text = choice.prompt
            area.move_cursor(area.document.end)
            self.set_focus(area)
            self.notify("In the prompt box: edit it, then ctrl+j.", timeout=3)
            return
        # the task's own numbered button keeps the lineage (and is Midjourney's way)
        kinds = (ButtonKind.DESCRIBE_PICK, ButtonKind.SHORTEN_PICK)
        button = next(
            (b for b in task.buttons if b.kind in kinds and b.custom_id.rsplit("::", 1)[-1] == str(choice.index)), None
        )
        if button is not None:
            self.press_with_prompt(task, button, choice.prompt)
        else:
            self.imagine(choice.prompt, task.mode, [])

    @work(group="press", exit_on_error=False)
    async def press_with_prompt(self, task: Task, button: Button, prompt: str) -> None:
        await self._press(task, button, prompt=prompt)

    # -- keep and share ---------------------------------------------------------------
    def _picture_task(self) -> Task | None:
        task = self.tasks.current
        if task is None:
            self.notify("Select a task first.", severity="warning", timeout=2)
            return None
        if task.status != Status.SUCCESS or not (task.image_urls or task.image_url):
            self.notify("The selected task has no finished image.", severity="warning", timeout=3)
            return None
        return task

    def _quadrant(self, task: Task) -> int | None:
        shown = self.preview.shown_task
        if shown is not None and shown.id == task.id and task.is_grid:
            return self.preview.quadrant
        return None

    def action_save(self) -> None:
        task = self._picture_task()
        if task is not None:
            self.save_image(task, self._quadrant(task))

    def save_folder(self) -> Path:
        return download_dir(self.launch.config.download_dir)

    async def _export(self, task: Task, quadrant: int | None) -> Path:
        from ...core.images import safe_filename

        service = await self.ready()
        await service.fetch_image(task)
        name = safe_filename(task.id, task.prompt or task.final_prompt, quadrant=quadrant)
        # decoding, cropping and writing a full-size PNG: off the event loop
        return await asyncio.to_thread(
            service.images.export, service.image_key(task), self.save_folder(), name, quadrant=quadrant
        )

    @work(group="save", exit_on_error=False)
    async def save_image(self, task: Task, quadrant: int | None) -> None:
        saved = await self._export(task, quadrant)
        what = f"Quadrant {quadrant}" if quadrant else "The image"
        self.notify(f"{what} of #{task.id} is in\n{saved}", title="Saved", timeout=8, markup=False)

    def _fallback_file(self) -> Path:
        # the user's data folder even in the demo (whose own folder goes when it quits)
        return data_dir() / "clipboard.txt"

    def _copy(self, text: str, what: str) -> None:
        from ..share import TMUX_HINT, copy_text, in_tmux

        written = copy_text(self.app, text, self._fallback_file())
        hint = f"\nNothing pasted? {TMUX_HINT}." if in_tmux() else ""
        where = f"\nAlso in {written}" if written else ""
        self.notify(f"{short(text, 120)}{hint}{where}", title=f"Copied {what}", timeout=8, markup=False)

    def action_copy_url(self) -> None:
        task = self._picture_task()
        if task is not None:
            self._copy(task.image_url or task.image_urls[0], "the image URL")

    def action_copy_prompt(self) -> None:
        task = self.tasks.current
        if task is None:
            self.notify("Select a task first.", severity="warning", timeout=2)
            return
        text = task.final_prompt or task.prompt
        if not text.strip():
            self.notify("The selected task has no prompt.", severity="warning", timeout=3)
            return
        self._copy(text, "the prompt")

    def action_open_browser(self) -> None:
        task = self._picture_task()
        if task is not None:
            self.open_image(task, self._quadrant(task))

    @work(group="open", exit_on_error=False)
    async def open_image(self, task: Task, quadrant: int | None) -> None:
        from ..share import open_in_browser

        url = task.image_url or task.image_urls[0]
        if self.launch.demo or not url.startswith(("http://", "https://")):
            # the demo's emulator is in this process: a browser could not reach its URLs
            service = await self.ready()
            url = (await service.fetch_image(task)).resolve().as_uri()
        reason = await asyncio.to_thread(open_in_browser, url)
        if reason is None:
            self.notify(f"Opened #{task.id} in the browser.", timeout=3)
            return
        saved = await self._saved_copy(task, quadrant) or await self._export(task, quadrant)
        link = task.image_url or task.image_urls[0]
        self.notify(
            f"No browser: {reason}.\nThe image is saved at {saved}\n{short(link, 120)}",
            title="Open image",
            severity="warning",
            timeout=10,
            markup=False,
        )

    async def _saved_copy(self, task: Task, quadrant: int | None) -> Path | None:
        """This picture, already saved under its own name (o pressed twice saves once)."""
        from ...core.images import safe_filename

        path = self.save_folder() / safe_filename(task.id, task.prompt or task.final_prompt, quadrant=quadrant)
        return path if await asyncio.to_thread(path.is_file) else None

    # -- lineage ----------------------------------------------------------------------
    def lineage_text(self, task: Task) -> str:
        """'from #123 · V2' for a task made by a button, else ''."""
        if not task.parent_id:
            return ""
        parent = self.service.get_cached(task.parent_id) if self.service is not None else None
        name = origin_name(task.origin_custom_id, parent)
        return f"from #{task.parent_id}" + (f" · {name}" if name else "")

    def action_parent(self) -> None:
        task = self.tasks.current
        if task is None or not task.parent_id:
            if task is not None and task.action.upper() not in ("IMAGINE", "BLEND", "DESCRIBE", "SHORTEN"):
                # an upscale or a variation has a parent, but the provider did not say which
                message = f"The provider did not say which task #{clean(task.id)} was made from."
            else:
                message = "The selected task was not made from another task."
            self.notify(message, severity="warning", timeout=3, markup=False)
            return
        self.go_to_task(task.parent_id)

    @work(exclusive=True, group="lineage", exit_on_error=False)
    async def go_to_task(self, task_id: str) -> None:
        service = await self.ready()
        if service.get_cached(task_id) is None:
            await service.refresh(task_id)  # not seen here yet: ask the server (stores it)
        position = service.history.position(service.namespace, task_id)
        if position is None:
            self.notify(f"Task #{task_id} is not in the history.", severity="warning", timeout=3)
            return
        size = service.profile.page_size
        number = position // size + 1
        self.tasks.show_page(service.cached_page(number), select=task_id)
        self.set_focus(self.tasks)
        if service.provider.server_history:
            self.load_page(number)  # the server's page may hold more, the selection stays
        self.notify(f"#{task_id} · page {number}", title="Parent", timeout=2, markup=False)
