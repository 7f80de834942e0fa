"""The main screen's state between key presses, in one place.

What the service is, what is on the wire, which dialogs wait their turn, how much room
the provider's queue has: the flows (:mod:`mj_tui.ui.flows`) read and change it, and
the panes only display what :class:`SessionChanged` tells them. No widget holds state a
flow has to read back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from ..core import pricing
from ..core.models import Mode, Task

if TYPE_CHECKING:
    from ..core.service import Capabilities, MjService
    from ..launch import Launch


@dataclass
class SessionChanged(Message):
    """The queue use or the session's spend changed: the header shows them."""

    running: int
    queue_limit: int | None
    spent: int


@dataclass
class Session:
    """UI state the main screen owns; `post` sends its messages (the screen's post_message)."""

    launch: Launch
    post: Callable[[Message], object]
    service: MjService | None = None
    #: set once the service is connected: a worker started in the first instant waits on it
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    #: an imagine is on the wire: a second ctrl+j must not pay twice
    sending: bool = False
    #: (task id, customId) presses on the wire
    pressing: set[tuple[str, str]] = field(default_factory=set)
    #: tasks waiting for a modal dialog while another one is open
    modal_queue: list[Task] = field(default_factory=list)
    modal_open: bool = False
    #: a permutation sent in part: (the box's text, the prompts not sent yet); ctrl+j on the
    #: same text sends those, never the ones already sent
    rest: tuple[str, list[str]] | None = None
    #: describe/shorten tasks sent here: their prompts are offered when they finish
    suggest_ids: set[str] = field(default_factory=set)
    #: ids of the tasks this session added, oldest first
    added: list[str] = field(default_factory=list)
    #: the provider's concurrent-job limit: the profile's guess until a "queue full" says
    queue_limit: int | None = None
    #: where the file pickers open: the folder last picked from
    pick_root: Path | None = None
    #: tasks per page: as many rows as the task list shows (the profile's until it is laid out)
    page_size: int = 0
    #: the search in force on the task list ("" for every task): pages, the gallery and
    #: exports follow it
    query: str = ""

    def __post_init__(self) -> None:
        if self.queue_limit is None:
            self.queue_limit = self.launch.profile.queue_limit
        if not self.page_size:
            self.page_size = self.launch.profile.tasks_per_page

    # -- what the service says, or the profile before it is connected ----------------
    @property
    def capabilities(self) -> Capabilities | None:
        return self.service.capabilities if self.service is not None else None

    @property
    def running(self) -> int:
        return self.service.in_flight if self.service is not None else 0

    @property
    def spent(self) -> int:
        return self.service.session_spend if self.service is not None else 0

    def queue_room(self) -> int | None:
        """How many more jobs the provider's queue takes now, where its limit is known."""
        if not self.queue_limit:
            return None
        return max(0, self.queue_limit - self.running)

    def learn_queue_limit(self, limit: int | None) -> None:
        """A "queue full" answer named the limit: the header shows use against it from now on."""
        if limit:
            self.queue_limit = limit
            self.changed()

    def price_text(self, action: str, mode: Mode | None, jobs: int = 1) -> str:
        """ "≈14,000 tok" for `jobs` jobs of `action`, "" where the provider has no prices."""
        return pricing.price_text(self.launch.profile.provider, action, mode, jobs)

    def changed(self) -> None:
        """Tell the panes the queue use or the spend may have moved."""
        self.post(SessionChanged(self.running, self.queue_limit, self.spent))

    def reset(self, launch: Launch) -> None:
        """A new key (and service) for the same screen: nothing on the wire any more."""
        self.launch = launch
        self.service = None
        self.ready = asyncio.Event()
        self.sending = False
