"""Sending prompts: one, or the many a ``{a, b}`` permutation makes.

Never pays twice: a second ctrl+j while a prompt is on the wire is refused, and a run of
prompts that stops part-way (a refusal, queue full) remembers what was not sent, so the
next ctrl+j on the same text sends only those.
"""

from __future__ import annotations

import asyncio

from ...core.errors import MjError, QueueFull
from ...core.models import Action, Mode, Task
from ...core.uploads import image_data_uri
from ..text import clean
from .base import Flow, short

CONFIRM_OVER = 4  # more paid jobs than this at once asks first


class Prompts(Flow):
    def queue(self, prompt: str, mode: Mode | None, paths: list[str]) -> None:
        """ctrl+g: the prompt (and its permutations) into the local queue."""
        if paths:
            self.notify(
                "A queued prompt takes reference images as links at its start, not files: ctrl+j sends this one now.",
                title="Not queued",
                severity="warning",
                timeout=8,
            )
            return
        from ...core.prompt import plan_prompt

        plan = plan_prompt(prompt, mode=mode.value if mode else None)  # the box checked it already
        self.screen.queue.add(list(plan.prompts), mode)
        self.screen.composer.sent(prompt)

    def submit(self, prompt: str, mode: Mode | None, paths: list[str]) -> None:
        """Expand {a, b} permutations locally; ask before more than 4 paid jobs."""
        from ...core.errors import PromptRefused
        from ...core.prompt import plan_prompt
        from ..screens.confirm import ConfirmDialog

        session = self.session
        try:
            plan = plan_prompt(prompt, mode=mode.value if mode else None)
        except PromptRefused as refused:
            self.notify(refused.message, title=refused.title, severity="error")
            return
        prompts = list(plan.prompts)
        already = 0
        if session.rest is not None and session.rest[0] == prompt and len(prompts) > 1:
            already = len(prompts) - len(session.rest[1])
            prompts = session.rest[1]
        jobs = plan.jobs * len(prompts) // max(1, len(prompts) + already)
        free = session.queue_room()
        if free == 0 and not paths and self.screen.queue.runner is not None:
            # the provider is full: the local queue sends them when a slot frees up
            self.screen.queue.add(prompts, mode, why=f"the provider's queue is full ({session.queue_limit})")
            self.screen.composer.sent(prompt)
            return
        # several prompts that cannot all fit: offer the ones that fit, or all of them (the
        # limit is the profile's guess until the server refuses one). One prompt simply goes:
        # the server is the judge, and a refusal keeps the prompt in the box.
        overflow = len(prompts) > 1 and free is not None and len(prompts) > free
        if jobs <= CONFIRM_OVER and not overflow:
            self._send(prompt, prompts, mode, paths)
            return
        cost = session.price_text(Action.IMAGINE, mode, jobs)
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
        queue_them = overflow and not paths and self.screen.queue.runner is not None
        if overflow:
            lines.append(
                f"Your queue has room for {free} now (queue_limit {session.queue_limit or '?'}): "
                + (
                    "'Queue' puts them all in the local queue, sent as slots free up."
                    if queue_them
                    else f"'Send {fit}' sends those and keeps the rest for the next ctrl+j."
                    if fit
                    else "the server would refuse them until a job finishes."
                )
            )
        lines += [f"  {i}. {short(p, 64)}" for i, p in enumerate(prompts[:6], 1)]
        if len(prompts) > 6:
            lines.append(f"  … and {len(prompts) - 6} more")

        def answer(choice: bool | str | None) -> None:
            if queue_them and choice is True:
                self.screen.queue.add(prompts, mode)
                self.screen.composer.sent(prompt)
            elif queue_them and choice == "alt":  # "Send N now": the rest wait for the next ctrl+j
                self._send(prompt, prompts[:fit], mode, paths, rest=prompts[fit:])
            elif choice == "alt" or (choice is True and not fit):
                self._send(prompt, prompts, mode, paths)
            elif choice is True:
                self._send(prompt, prompts[:fit], mode, paths, rest=prompts[fit:])
            else:
                self.notify("Nothing was sent.", timeout=3)

        if queue_them:
            dialog = ConfirmDialog(
                f"Queue {len(prompts)} prompts?",
                "\n".join(lines),
                yes=f"Queue {len(prompts)}",
                alt=f"Send {fit} now" if fit else None,
            )
        elif fit:
            dialog = ConfirmDialog(
                f"Send {fit} of {len(prompts)} prompts?",
                "\n".join(lines),
                yes=f"Send {fit}",
                alt=f"Send all {len(prompts)}",
            )
        else:
            dialog = ConfirmDialog(f"Send {jobs} jobs?", "\n".join(lines), yes=f"Send {jobs} jobs")
        self.screen.app.push_screen(dialog, answer)

    def _send(
        self, original: str, prompts: list[str], mode: Mode | None, paths: list[str], rest: list[str] | None = None
    ) -> None:
        session = self.session
        resuming = session.rest is not None and session.rest[0] == original
        if len(prompts) == 1 and not rest and not resuming:
            self.imagine(prompts[0], mode, paths)
            if prompts[0] != original:  # whitespace only: still the box's prompt
                self.screen.composer.history.add(original)
        else:
            self.run(self._imagine_many(original, prompts, mode, paths, rest or []), group="submit")

    def send_again(self, task: Task) -> None:
        """An unconfirmed prompt: ask, then send it again (it may already be at the provider)."""
        from ..screens.confirm import ConfirmDialog

        if task.action != Action.IMAGINE:
            self.notify(
                "Its answer never came. Check the task it was made from, press the button again there if it "
                "did not arrive, and dismiss this one (x).",
                title="Not confirmed",
                severity="warning",
                timeout=8,
            )
            return
        cost = self.session.price_text(Action.IMAGINE, task.mode)

        def answer(yes: bool | str | None) -> None:
            if yes:
                service = self.session.service
                if service is not None:
                    self.screen.tasks.update_task(service.dismiss(task.id))
                self.imagine(task.prompt, task.mode, [])

        text = (
            f"“{short(task.prompt, 120)}” may already be at the provider: its answer never came. "
            "Check the provider's own list first; sending it again may pay twice" + (f" ({cost})." if cost else ".")
        )
        self.screen.app.push_screen(ConfirmDialog("Send it again?", text, yes="Send again"), answer)

    def imagine(self, prompt: str, mode: Mode | None, paths: list[str]) -> None:
        self.run(self._imagine(prompt, mode, paths), group="submit")

    async def _imagine(self, prompt: str, mode: Mode | None, paths: list[str]) -> None:
        session = self.session
        if session.sending:  # a second ctrl+j while the first is on the wire: never pay twice
            self.notify("Still sending the previous prompt…", severity="warning", timeout=2)
            return
        session.sending = True
        try:
            # reading and shrinking images is disk + CPU work: off the event loop
            images = [await asyncio.to_thread(image_data_uri, path) for path in paths]
            task = await (await self.ready()).imagine(prompt, mode=mode, images=images)
        except QueueFull as full:
            # refused outright, nothing made: the local queue sends it when a slot frees up
            session.learn_queue_limit(full.limit)
            runner = self.screen.queue.runner
            if paths or runner is None:
                raise
            runner.learn_limit(full.limit)
            self.screen.queue.add([prompt], mode, why="the provider's queue is full")
            self.screen.composer.sent(prompt)
            return
        finally:
            session.sending = False
        self.screen.composer.sent(prompt)
        self.screen.connection.task_added(task)

    async def _imagine_many(
        self, original: str, prompts: list[str], mode: Mode | None, paths: list[str], rest: list[str]
    ) -> None:
        session = self.session
        if session.sending:
            self.notify("Still sending the previous prompt…", severity="warning", timeout=2)
            return
        session.sending = True
        sent: list[Task] = []
        try:
            images = [await asyncio.to_thread(image_data_uri, path) for path in paths]
            service = await self.ready()
            for number, prompt in enumerate(prompts, 1):
                try:
                    task = await service.imagine(prompt, mode=mode, images=images)
                except MjError as exc:
                    session.learn_queue_limit(getattr(exc, "limit", None))
                    left = prompts[number - 1 :] + rest
                    session.rest = (original, left)
                    # never resend: say what went and what did not
                    self.notify(
                        f"Sent {len(sent)} of {len(prompts)}; prompt {number} failed: {clean(str(exc))}\n"
                        f"The other {len(left)} were not sent; ctrl+j on the same text sends just those.",
                        title=exc.title,
                        severity="error",
                        timeout=12,
                    )
                    break
                sent.append(task)
                self.screen.connection.task_added(task)
        finally:
            session.sending = False
        if len(sent) < len(prompts):
            return
        if rest:
            session.rest = (original, rest)
            self.screen.composer.history.add(original)
            self.notify(
                f"Sent {len(sent)}; {len(rest)} wait. ctrl+j on the same text sends the rest.",
                title="Submitted",
                timeout=8,
            )
        else:
            session.rest = None
            self.screen.composer.sent(original)
            self.notify(
                f"{len(sent)} prompt{'s' if len(sent) > 1 else ''} from {short(original, 40)}",
                title="Submitted",
                timeout=4,
            )
