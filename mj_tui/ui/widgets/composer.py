"""The prompt composer: a multi-line prompt, the speed mode and reference images.

While typing: the prompt is linted by model version (errors block sending, the
first problem shows on a line under the box, the culprits are underlined);
tab or ctrl+space inside a --parameter completes its name or value (a short list
when there are several); the border counts the jobs a {a, b} permutation or
--repeat makes and what they cost where the provider publishes prices.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.widgets.text_area import Document

from ...core.models import Mode
from ..messages import PromptSubmitted
from ..prompt_history import PromptHistory
from ..text import literal
from .mode_chip import ModeChip
from .prompt_area import PromptArea

MAX_SUGGESTIONS = 40


def split_paths(text: str) -> list[str]:
    """File paths separated by spaces (or "a.png, b.png"); quotes keep a path with spaces whole."""
    text = text.strip()
    if not text:
        return []
    try:
        parts = shlex.split(text)
    except ValueError:  # an unbalanced quote: fall back to plain spaces
        parts = text.split()
    return [p for p in (part.rstrip(",") for part in parts) if p]


class Composer(Vertical):
    BINDINGS = [
        # priority: TextArea would otherwise move the cursor / take the key
        Binding("ctrl+up,alt+up", "history(-1)", "Older prompt", id="history-prev", priority=True, show=False),
        Binding("ctrl+down,alt+down", "history(1)", "Newer prompt", id="history-next", priority=True, show=False),
        # shown: from the prompt box it is the way to every key for the tasks (u, v, 1-4, s...)
        Binding(
            "escape",
            "leave",
            "Task keys",
            id="leave-composer",
            tooltip="Leave the prompt box for the task list and its keys",
        ),
        Binding(
            "ctrl+l",
            "clear_prompt",
            "Clear",
            id="clear-prompt",
            priority=True,
            show=False,
            tooltip="Clear the prompt box (ctrl+z brings it back)",
        ),
        # completion: priority so the TextArea does not take the keys first; each only acts
        # when it applies (see check_action), otherwise the key does what it always does
        Binding(
            "tab",
            "complete",
            "Complete",
            id="complete",
            priority=True,
            show=False,
            tooltip="Complete the --parameter at the cursor (else: next pane)",
        ),
        Binding(
            "ctrl+space,ctrl+@",
            "complete(True)",
            "Complete",
            id="complete-list",
            priority=True,
            show=False,
            tooltip="Suggest --parameters and values at the cursor",
        ),
        Binding("up", "suggest_move(-1)", show=False, priority=True),
        Binding("down", "suggest_move(1)", show=False, priority=True),
        Binding("enter", "suggest_accept", show=False, priority=True),
        Binding("escape", "suggest_close", show=False, priority=True),
    ]

    def __init__(
        self,
        modes: tuple[Mode, ...],
        mode: Mode | None,
        history: PromptHistory,
        price: Callable[[str, Mode | None], int | None],
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.modes = modes
        self.history = history
        self.price = price
        self._initial_mode = mode if mode in modes else (modes[0] if modes else None)
        self.border_title = "Prompt"
        self.border_subtitle = "ctrl+j send"
        self.completions: list = []  # core.prompt Completions on show
        # hidden until needed, so mounted just after the first frame (see _extras)
        self._suggest: OptionList | None = None
        self._lint: Static | None = None

    def compose(self) -> ComposeResult:
        yield PromptArea(
            id="prompt",
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Type a prompt: what to draw… (ctrl+j sends)",
        )
        with Horizontal(id="composer-options"):
            yield ModeChip(self.modes, self._initial_mode, id="mode")
            yield Input(placeholder="reference images: file paths, space-separated", compact=True, id="refs")

    def on_mount(self) -> None:
        self.call_after_refresh(self._extras)
        self.text_area.lint_mode = self.mode.value if self.mode else None
        self._show_price()

    def _extras(self) -> tuple[OptionList, Static]:
        """The suggestion list and the lint line under the prompt box, both hidden until
        needed: mounted after the first frame (or on first use), which keeps their
        styling and layout out of start-up."""
        if self._suggest is None or self._lint is None:
            self._suggest = OptionList(id="suggest", compact=True)
            self._lint = Static("", id="lint", markup=False)
            self._suggest.display = self._lint.display = False
            self.mount(self._suggest, self._lint, after=self.text_area)
        return self._suggest, self._lint

    @property
    def _listing(self) -> bool:
        return self._suggest is not None and self._suggest.display

    def _close_list(self) -> None:
        if self._suggest is not None:
            self._suggest.display = False

    # -- values -----------------------------------------------------------------------
    @property
    def text_area(self) -> PromptArea:
        return self.query_one("#prompt", PromptArea)

    @property
    def mode(self) -> Mode | None:
        return self.query_one("#mode", ModeChip).value

    def set_modes(self, modes: tuple[Mode, ...]) -> None:
        """The provider's speed modes, once known; keeps the current choice if offered."""
        self.modes = modes
        self.query_one("#mode", ModeChip).set_modes(modes)

    def cycle_mode(self) -> Mode | None:
        return self.query_one("#mode", ModeChip).step(1)

    def submit(self, *, queue: bool = False) -> str | None:
        """Send (or `queue`) what is typed (the screen decides what happens); else why not."""
        from ...core.errors import PromptRefused
        from ...core.prompt import plan_prompt  # the CLI's check too: one set of refusals

        area = self.text_area
        prompt = area.text.strip()
        if not prompt:
            return "Type a prompt first."
        try:
            if area.lint_version:
                plan_prompt(prompt, mode=area.lint_mode, default_version=area.lint_version)
            else:
                plan_prompt(prompt, mode=area.lint_mode)
        except PromptRefused as refused:
            self._show_lint()
            return refused.message
        paths = split_paths(self.query_one("#refs", Input).value)
        self.post_message(PromptSubmitted(prompt, self.mode, paths, queue))
        return None

    def sent(self, prompt: str) -> None:
        """The prompt was accepted: remember it and clear the box (if unchanged)."""
        self.history.add(prompt)
        if self.text_area.text.strip() == prompt:
            self.text_area.clear()
            self.query_one("#refs", Input).value = ""

    # -- actions ----------------------------------------------------------------------
    def action_history(self, step: int) -> None:
        area = self.text_area
        recalled = self.history.previous(area.text) if step < 0 else self.history.next()
        if recalled is None:
            self.app.bell()
            return
        area.text = recalled
        area.move_cursor(area.document.end)

    def action_clear_prompt(self) -> None:
        self.text_area.clear()  # an edit like any other: ctrl+z undoes it
        self.text_area.focus()

    def action_leave(self) -> None:
        from ..screens.main import MainScreen  # loaded: the composer lives on it

        if isinstance(self.screen, MainScreen):
            self.screen.action_focus_pane("tasks")

    @on(ModeChip.Changed, "#mode")
    def _mode_changed(self) -> None:
        self.text_area.lint_mode = self.mode.value if self.mode else None
        self.text_area.relint()  # permutations are an error in relax mode
        self._show_lint()
        self._show_price()

    def _show_price(self) -> None:
        """Jobs and cost of what ctrl+j would send, in the border (fits 80 columns)."""
        text = self.text_area.text
        if text.strip():
            from ...core.prompt import job_count  # loaded with the first keystroke, not before

            jobs = job_count(text)
        else:
            jobs = 1
        each = self.price("IMAGINE", self.mode)
        bits = [f"{jobs} jobs" if jobs > 1 else "", f"≈{each * jobs:,} tok" if each else "", "ctrl+j send"]
        self.border_subtitle = " · ".join(b for b in bits if b)

    # -- lint -------------------------------------------------------------------------
    @on(TextArea.Changed, "#prompt")
    def _edited(self) -> None:
        self._show_lint()
        self._show_price()
        if self._listing:
            self._update_suggestions(open_list=False)

    @on(TextArea.SelectionChanged, "#prompt")
    def _cursor_moved(self) -> None:
        if self._listing:
            self._update_suggestions(open_list=False)
        if self.text_area.issues:
            self._show_lint()  # the problem under the cursor is the one shown

    def _show_lint(self) -> None:
        cursor = self._cursor_index()
        issues = [
            i for i in self.text_area.issues if i.severity in ("error", "warning") and not self._being_typed(i, cursor)
        ]
        if not issues:
            if self._lint is not None and self._lint.display:
                self._lint.display = False
            return
        line = self._extras()[1]
        # errors first (they block sending), and of those the one under the cursor (arrow onto
        # an underline to read it); a warning never hides an error
        issues.sort(key=lambda i: (i.severity != "error", not i.start <= cursor <= i.end, i.start))
        first = issues[0]
        error = first.severity == "error"
        more = f"  (+{len(issues) - 1} more: move onto an underline)" if len(issues) > 1 else ""
        line.update(literal(f"{'✘' if error else '⚠'} {first.message}{more}", "$error" if error else "$warning"))
        line.display = True

    def _being_typed(self, issue, cursor: int) -> bool:
        """'--st' or '--s' with the cursor at its end is still being typed: not yet unknown,
        not yet missing its value."""
        if issue.end != cursor:
            return False
        if issue.code == "missing-value":
            return True
        if issue.code != "unknown-param":
            return False
        from ...core.prompt import complete

        try:
            return bool(complete(self.text_area.text, cursor, version=self.text_area.lint_version))
        except Exception:
            return False

    # -- completion -------------------------------------------------------------------
    @property
    def _document(self) -> Document:
        """The prompt box's text (a plain Document: the box has no syntax highlighting)."""
        document = self.text_area.document
        assert isinstance(document, Document)
        return document

    def _cursor_index(self) -> int:
        area = self.text_area
        return self._document.get_index_from_location(area.cursor_location)

    def _completions(self) -> list:
        from ...core.prompt import complete

        area = self.text_area
        try:
            return complete(area.text, self._cursor_index(), version=area.lint_version)[:MAX_SUGGESTIONS]
        except Exception:  # never lose a keystroke to a completer bug
            return []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        listing = self._listing
        if action in ("suggest_move", "suggest_accept", "suggest_close"):
            return listing
        if action == "complete":
            if self.screen.focused is not self.text_area:
                return False
            if listing or parameters:
                return True
            # the footer asks this on every refresh: no parameter dash, nothing to complete
            # (and no loading of the prompt module for an empty box)
            text = self.text_area.text
            if not any(dash in text for dash in ("--", "\u2014", "\u2013")):
                return False
            return bool(self._completions())
        return True

    def action_complete(self, show_list: bool = False) -> None:
        if self._listing and not show_list:
            self.action_suggest_accept()  # tab on an open list takes the highlighted one
            return
        self._update_suggestions(open_list=True, apply_single=not show_list)

    def _update_suggestions(self, *, open_list: bool, apply_single: bool = False) -> None:
        items = self._completions()
        if not items:
            self._close_list()
            if open_list:
                self.app.bell()
            return
        if apply_single and len(items) == 1:
            self._apply(items[0])
            self._update_suggestions(open_list=False)  # a name completed: offer its values
            return
        self.completions = items
        suggest = self._extras()[0]
        suggest.set_options(Option(literal(c.label, one_line=True)) for c in items)
        suggest.highlighted = 0
        suggest.display = True

    def _apply(self, item) -> None:
        area = self.text_area
        document = self._document
        start = document.get_location_from_index(item.start)
        end = document.get_location_from_index(item.end)
        area.replace(item.text, start, end)
        self._close_list()

    def action_suggest_move(self, step: int) -> None:
        suggest = self._extras()[0]
        if suggest.option_count:
            suggest.highlighted = ((suggest.highlighted or 0) + step) % suggest.option_count

    def action_suggest_accept(self) -> None:
        index = self._extras()[0].highlighted
        if index is not None and 0 <= index < len(self.completions):
            self._apply(self.completions[index])
            # a name completed: offer its values right away
            self._update_suggestions(open_list=False)

    def action_suggest_close(self) -> None:
        self._close_list()

    def on_descendant_blur(self) -> None:
        if not self.text_area.has_focus:
            self._close_list()
