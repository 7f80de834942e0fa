"""Going to the task a task was made from (`g`): on the list, on its page, selected."""

from __future__ import annotations

from ...core.models import Action
from ..text import clean
from .base import Flow


class Lineage(Flow):
    def parent(self) -> None:
        task = self.screen.tasks.current
        if task is None or not task.parent_id:
            if task is not None and task.action.upper() not in [a.value for a in Action if a.starts_a_lineage]:
                # an upscale or a variation has a parent, but the provider did not say which
                message = f"The provider did not say which task #{clean(task.id)} was made from."
            else:
                message = "The selected task was not made from another task."
            self.notify(message, severity="warning", timeout=3)
            return
        self.run(self._go_to(task.parent_id), group="lineage", exclusive=True)

    async def _go_to(self, task_id: str) -> None:
        service = await self.ready()
        if service.get_cached(task_id) is None:
            await service.refresh(task_id)  # not seen here yet: ask the server (stores it)
        size = self.session.page_size
        number = service.page_of(task_id, size)
        if number is None:
            self.notify(f"Task #{clean(task_id)} is not in the history.", severity="warning", timeout=3)
            return
        screen = self.screen
        screen.tasks.show_page(service.cached_page(number, size), select=task_id)
        screen.set_focus(screen.tasks)
        if service.capabilities.server_history:
            screen.connection.load_page(number)  # the server's page may hold more, the selection stays
        self.notify(f"#{clean(task_id)} · page {number}", title="Parent", timeout=2)
