"""Command palette (ctrl+p): every key binding, plus every button of the selected task."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape
from textual.screen import Screen
from textual.widget import Widget

from .keys import bindings_of, key_text
from .text import clean

if TYPE_CHECKING:
    from .app import MjApp


def palette_title(name: str, tooltip: str) -> str:
    """'Parent: go to the task this one was made from': found by its short name or its words."""
    if name and tooltip and name.lower() not in tooltip.lower():
        return f"{name}: {tooltip[0].lower()}{tooltip[1:]}"
    return tooltip or name


def binding_commands(app: MjApp, screen: Screen) -> Iterable[SystemCommand]:
    """One palette entry per binding of the app, the current screen and its panes."""
    seen: set[str] = set()
    owners: list[tuple[App[Any] | Widget, type]] = [(app, type(app)), (screen, type(screen))]
    for pane in ("composer", "actions"):  # the main screen's panes with keys of their own
        if (widget := getattr(screen, pane, None)) is not None:
            owners.append((widget, type(widget)))
    for owner, cls in owners:
        for binding in bindings_of(
            c for c in cls.__mro__ if "BINDINGS" in c.__dict__ and c.__module__.startswith("mj_tui")
        ):
            title = palette_title(binding.description, binding.tooltip)
            if title in seen or binding.action in ("quit", "app.quit"):
                continue  # quit is already a system command
            seen.add(title)
            keys = key_text(app, binding, app.keymap)
            yield SystemCommand(title, f"key: {keys}", partial(owner.run_action, binding.action))


class ButtonCommands(Provider):
    """'Press U2', 'Press 🔍 Zoom Out 2x'... for the task selected on the main screen."""

    def _buttons(self) -> list[tuple[str, Callable[[], None]]]:
        from .screens.main import MainScreen  # loaded: the palette opens over it

        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        actions = screen.actions
        task = actions.shown_task
        if task is None:
            return []
        press = screen.press
        return [
            (f"Press {escape(clean(b.display, one_line=True))} on #{escape(clean(task.id))}", partial(press, task, b))
            for b in actions.buttons
        ]

    async def discover(self) -> Hits:
        for title, callback in self._buttons():
            yield DiscoveryHit(title, callback, help="Button of the selected task")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback in self._buttons():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help="Button of the selected task")
