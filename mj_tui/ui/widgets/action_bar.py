"""The selected task's buttons, labelled as Midjourney labels them.

A single focusable widget: arrows move a cursor over the buttons, enter or
space presses, a click presses too.  It lays its chips out line by line
itself so a label like "Upscale (Subtle)" is never split across lines.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from ...core.models import Button, ButtonKind, Task
from ..look import MUTED
from ..messages import ActionRequested
from ..text import clean

GAP = 1


def chip_text(button: Button) -> str:
    return f" {clean(button.display, one_line=True)} "


class ActionBar(Widget, can_focus=True):
    BINDINGS = [
        Binding("left", "move(-1)", "Prev", show=False, id="action-prev", tooltip="Previous button"),
        Binding("right", "move(1)", "Next", show=False, id="action-next", tooltip="Next button"),
        Binding("up", "move_line(-1)", "Up", show=False, id="action-up", tooltip="The button above"),
        Binding("down", "move_line(1)", "Down", show=False, id="action-down", tooltip="The button below"),
        Binding("home", "jump(0)", show=False),
        Binding("end", "jump(-1)", show=False),
        Binding("enter,space", "press_cursor", "Press", id="action-press", tooltip="Press the selected button"),
        Binding("escape", "leave", "To tasks", id="action-leave", show=False, tooltip="Back to the task list"),
    ]

    cursor = reactive(0)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown_task: Task | None = None
        self.buttons: tuple[Button, ...] = ()
        self.hint: str | None = None
        #: dimmed, with the reason shown when the cursor is on them: the dialect lacks them
        self.unavailable: dict[ButtonKind, str] = {}
        self.border_title = "Actions"

    def show(self, task: Task | None) -> None:
        buttons = task.buttons if task is not None and task.status.is_terminal else ()
        same = self.buttons == buttons
        empty_state = self._empty_text(task)
        if same and not buttons and empty_state == self._empty_text(self.shown_task):
            self.shown_task = task
            return  # the same sentence as before: nothing to redraw
        self.shown_task = task
        self.buttons = buttons
        if not same:
            self.cursor = 0
        self.border_subtitle = self._subtitle() if buttons else ""
        # the same buttons keep the same height: a repaint, not a layout of the screen
        self.refresh(layout=not same)

    @staticmethod
    def _empty_text(task: Task | None) -> str:
        if task is None:
            return "none"
        return "done" if task.status.is_terminal else "running"

    def _subtitle(self, more: str = "") -> str:
        if self.hint:
            return self.hint
        if self.has_focus and 0 <= self.cursor < len(self.buttons):
            reason = self.unavailable.get(self.buttons[self.cursor].kind)
            if reason:
                return reason  # a dimmed button says why where the eye is
        keys = "u/v+1-4 · r" if self.shown_task is not None and self.shown_task.is_grid else "←→ enter"
        return f"{more + ' more · ' if more else ''}a: focus · {keys}"

    def set_hint(self, hint: str | None) -> None:
        """A transient note in the border (e.g. 'U… press 1-4'); None restores the key hints."""
        self.hint = hint
        self.border_subtitle = self._subtitle() if self.buttons else ""
        self.refresh()

    # -- layout -----------------------------------------------------------------------
    def _lines(self, width: int) -> list[list[int]]:
        lines: list[list[int]] = [[]]
        used = 0
        for index, button in enumerate(self.buttons):
            size = cell_len(chip_text(button))
            if lines[-1] and used + GAP + size > width:
                lines.append([])
                used = 0
            used += (GAP if lines[-1] else 0) + size
            lines[-1].append(index)
        return lines

    def _max_lines(self) -> int:
        # on a 24-row terminal the picture needs the rows more than the buttons do
        return 3 if self.screen.has_class("-short") else 6

    def _window(self, lines: list[list[int]]) -> list[list[int]]:
        """The lines to show: all of them, or a window that follows the cursor."""
        limit = self._max_lines()
        if len(lines) <= limit:
            return lines
        at = next((n for n, line in enumerate(lines) if self.cursor in line), 0)
        start = min(max(0, at - limit + 1), len(lines) - limit)
        return lines[start : start + limit]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._window(self._lines(max(1, width)))) if self.buttons else 1

    def render(self) -> Content:
        if not self.buttons:
            if self.shown_task is None:
                return Content.styled("Select a task to see its actions.", MUTED)
            if self.shown_task.status.is_terminal:
                return Content.styled("This task has no actions.", MUTED)
            return Content.styled("Actions appear when the task has finished.", MUTED)
        rows = []
        lines = self._lines(max(1, self.content_size.width))
        shown = self._window(lines)
        above, below = shown[0] != lines[0], shown[-1] != lines[-1]
        self.border_subtitle = self._subtitle(("↑" if above else "") + ("↓" if below else ""))
        for line in shown:
            chips = [self._chip(i) for i in line]
            rows.append(Content(" " * GAP).join(chips))
        return Content("\n").join(rows)

    def _chip(self, index: int) -> Content:
        text = chip_text(self.buttons[index])
        if index == self.cursor and self.has_focus:
            text = f"›{text[1:-1]}‹"  # the cursor, seen without colour too (same width)
            style = "bold $block-cursor-foreground on $block-cursor-background"
        elif index == self.cursor:
            style = "bold $foreground on $panel-lighten-2"
        elif self.buttons[index].kind in self.unavailable:
            style = "$text-disabled on $panel"
        else:
            style = "$foreground on $panel-lighten-1"
        # the label goes in as a variable: never parsed as markup
        return Content.from_markup(f"[@click=press_index({index})]$label[/]", label=text).stylize(style)

    # -- actions ----------------------------------------------------------------------
    def watch_cursor(self) -> None:
        self.refresh(layout=True)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.buttons:
            self.cursor = (self.cursor + step) % len(self.buttons)

    def action_leave(self) -> None:
        self.screen.set_focus(self.screen.query_one("TaskList"))

    def action_move_line(self, step: int) -> None:
        """Up/down: the button above or below the cursor (by column), or the first/last."""
        if not self.buttons:
            return
        lines = self._lines(max(1, self.content_size.width))
        at = next((n for n, line in enumerate(lines) if self.cursor in line), 0)
        target = at + step
        if not 0 <= target < len(lines):
            self.cursor = 0 if step < 0 else len(self.buttons) - 1
            return
        column = self._column(lines[at], self.cursor)
        self.cursor = min(lines[target], key=lambda i: abs(self._column(lines[target], i) - column))

    def _column(self, line: list[int], index: int) -> int:
        """Cell where a chip's middle sits on its line."""
        x = 0
        for i in line:
            size = cell_len(chip_text(self.buttons[i]))
            if i == index:
                return x + size // 2
            x += size + GAP
        return x

    def action_jump(self, index: int) -> None:
        if self.buttons:
            self.cursor = index % len(self.buttons)

    def action_press_cursor(self) -> None:
        self.action_press_index(self.cursor)

    def action_press_index(self, index: int) -> None:
        if self.shown_task is not None and 0 <= index < len(self.buttons):
            self.cursor = index
            self.post_message(ActionRequested(self.shown_task, self.buttons[index]))

    def find(self, kind: ButtonKind, index: int | None = None) -> Button | None:
        return next((b for b in self.buttons if b.kind == kind and (index is None or b.index == index)), None)
