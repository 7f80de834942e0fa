"""What every flow shares: the screen it works for, its session, and how it runs workers."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from ..text import clean

if TYPE_CHECKING:
    from ...core.service import MjService
    from ..screens.main import MainScreen
    from ..session import Session


def short(text: str, limit: int = 48) -> str:
    """Server text on one line, cut to `limit` characters for a toast or a row."""
    text = clean(text, one_line=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Flow:
    """Base of the flows: `run` starts a worker on the screen, `ready` waits for the service."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    @property
    def session(self) -> Session:
        return self.screen.session

    def notify(self, message: str, **kwargs: Any) -> None:
        """A toast; text is literal unless a caller asks for markup."""
        kwargs.setdefault("markup", False)
        self.screen.notify(message, **kwargs)

    def run(
        self,
        work: Coroutine[Any, Any, Any] | Callable[[], Any],
        *,
        group: str,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[Any]:
        """A worker of the main screen: its failure becomes a toast there (see ReportWorkerErrors)."""
        if not inspect.iscoroutine(work):
            return self.screen.run_worker(work, group=group, exclusive=exclusive, thread=thread, exit_on_error=False)
        coroutine = work

        async def started() -> Any:
            return await coroutine

        worker = self.screen.run_worker(started, group=group, exclusive=exclusive, exit_on_error=False)
        # a worker cancelled before it started (a newer one in an exclusive group) never awaits
        # the coroutine: closed when the worker goes, Python does not warn of it
        weakref.finalize(worker, coroutine.close)
        return worker

    async def ready(self) -> MjService:
        """The service, waiting for it if a key was pressed in the first instant."""
        session = self.session
        if session.service is None:
            await session.ready.wait()
        assert session.service is not None
        return session.service
