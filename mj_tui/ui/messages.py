"""Messages the panes send to the main screen (which owns the service calls)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..core.models import Button, Mode, Task


@dataclass
class TaskHighlighted(Message):
    """The task list's cursor moved to a task (None: the page is empty)."""

    task: Task | None


@dataclass
class TaskActivated(Message):
    """Enter on a task: e.g. reopen its modal dialog."""

    task: Task


@dataclass
class PromptSubmitted(Message):
    prompt: str
    mode: Mode | None
    image_paths: list[str]
    #: into the local queue (ctrl+g), not sent now
    queue: bool = False


@dataclass
class ActionRequested(Message):
    """A button of a task was pressed (key, click or command palette)."""

    task: Task
    button: Button
