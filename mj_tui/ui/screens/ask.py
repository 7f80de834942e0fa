"""A one-line question (a page number, a tag): enter answers, escape cancels.

A validator keeps it open with the reason shown, so an answer that cannot be used is
never taken; `suggest` offers completions (tab takes the one shown).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import Suggester, SuggestFromList
from textual.widgets import Button, Input, Label, Static

from ..look import MUTED
from ..text import literal
from .dialog import Dialog


class LastWordSuggester(Suggester):
    """Completes the last space-separated word of the line from a list (tags: "food por" ->
    "food portfolio")."""

    def __init__(self, words: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.words = words

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(" ")
        if not last:
            return None
        for word in self.words:
            if word.lower().startswith(last.lower()) and word.lower() != last.lower():
                return f"{head} {word}" if head else word
        return None


class AskDialog(Dialog[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="ask-cancel", tooltip="Close without an answer"),
        Binding("tab", "take_suggestion", "Complete", id="ask-complete", show=False, tooltip="Take the suggestion"),
    ]
    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {"send": "answer", "cancel": "cancel"}

    def __init__(
        self,
        title: str,
        question: str,
        value: str = "",
        *,
        validate: Callable[[str], str | None] | None = None,
        suggestions: list[str] | None = None,
        placeholder: str = "",
        last_word: bool = False,
    ) -> None:
        super().__init__(title)
        self.question = question
        self.value = value
        self.validate = validate
        self.suggestions = suggestions or []
        self.placeholder = placeholder
        self.last_word = last_word

    def compose(self) -> ComposeResult:
        with Vertical(id="ask", classes="dialog"):
            yield self.title_label(self.dialog_title)
            yield Label(literal(self.question, MUTED), classes="dialog-text")
            suggester: Suggester | None = None
            if self.suggestions:
                suggester = (
                    LastWordSuggester(self.suggestions)
                    if self.last_word
                    else SuggestFromList(self.suggestions, case_sensitive=False)
                )
            yield Input(self.value, placeholder=self.placeholder, id="ask-input", suggester=suggester)
            yield Static("", id="ask-error", markup=False)
            yield self.button_row(
                Button("OK  enter", variant="primary", id="send", compact=True),
                Button("Cancel  esc", id="cancel", compact=True),
            )

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = getattr(self.app, "blink_cursor", True)
        field.focus()
        field.action_end()

    def action_take_suggestion(self) -> None:
        field = self.query_one(Input)
        before = field.value
        field.action_end()
        field.action_cursor_right()  # at the end, the Input takes the suggestion shown
        if field.value == before:
            self.app.bell()
        elif self.last_word:
            field.insert_text_at_cursor(" ")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_answer()

    def action_answer(self) -> None:
        text = self.query_one(Input).value.strip()
        problem = self.validate(text) if self.validate else None
        if problem:
            self.app.bell()
            self.query_one("#ask-error", Static).update(literal(problem, "$error"))
            return
        self.dismiss(text)
