"""The task list's search line: `/` opens it above the list, results follow the typing.

It only edits and reports: what the query finds is the library flow's business
(:mod:`mj_tui.ui.flows.library`), which debounces :class:`SearchLine.Changed` and shows
the answer, or a problem, with :meth:`SearchLine.say`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from ..look import MUTED
from ..text import literal

#: (query, cursor) -> the words that could replace the one at the cursor
Completer = Callable[[str, int], list[str]]
#: (query, cursor) -> where the word at the cursor starts and ends
WordSpan = Callable[[str, int], tuple[int, int]]

PLACEHOLDER = "words, status:failed, tag:name, since:7d…  tab completes · esc all tasks"


def common_start(words: list[str]) -> str:
    """The longest start all `words` share."""
    first, last = min(words), max(words)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


class SearchLine(Vertical):
    """An input and a line under it for the count, completions or what is wrong."""

    BINDINGS = [
        Binding("tab", "complete", "Complete", id="search-complete", show=False, tooltip="Complete a search term"),
        Binding("escape", "close", "All tasks", id="search-close", tooltip="Leave the search: every task again"),
        Binding("down", "done", "Results", id="search-results", show=False, tooltip="To the results"),
    ]

    @dataclass
    class Changed(Message):
        """The query was edited (every key: the flow waits for a pause in the typing)."""

        query: str

    class Closed(Message):
        """Escape: the search is over, the list shows every task again."""

    class Done(Message):
        """Enter or down: to the results, the search kept."""

    def __init__(self, complete: Completer, span: WordSpan, **kwargs) -> None:
        super().__init__(**kwargs)
        self._complete = complete
        self._span = span

    def compose(self) -> ComposeResult:
        yield Input(placeholder=PLACEHOLDER, id="search-input", compact=True, select_on_focus=False)
        yield Static("", id="search-note", markup=False)

    def on_mount(self) -> None:
        # the config's [ui] cursor_blink (a blinking cursor redraws twice a second, over SSH too)
        self.input.cursor_blink = getattr(self.app, "blink_cursor", True)

    @property
    def input(self) -> Input:
        return self.query_one("#search-input", Input)

    @property
    def query_text(self) -> str:
        return self.input.value

    def open(self, text: str | None = None) -> None:
        """Show the line and put the cursor at its end (with `text`, that query)."""
        self.display = True
        if text is not None and text != self.input.value:
            with self.prevent(Input.Changed):
                self.input.value = text
        self.input.focus()
        self.input.action_end()

    def close(self) -> None:
        with self.prevent(Input.Changed):
            self.input.value = ""
        self.say("")
        self.display = False

    def say(self, text: str | Content, *, problem: bool = False) -> None:
        """The line under the input: a count, completions, or what is wrong (in red)."""
        note = self.query_one("#search-note", Static)
        if isinstance(text, str):
            text = literal(text, "$error" if problem else MUTED, one_line=True)
        note.update(text)
        note.set_class(problem, "-problem")

    def point_at(self, message: str, start: int | None, end: int | None) -> None:
        """A problem with a part of the query: the message, and the part underlined."""
        query = self.input.value
        if start is None or end is None or not 0 <= start < end <= len(query):
            self.say(message, problem=True)
            return
        self.say(
            Content.assemble(
                literal(message, "$error", one_line=True),
                ("  ", ""),
                (query[start:end], "bold $error underline"),
            ),
            problem=True,
        )

    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done())

    def action_close(self) -> None:
        self.post_message(self.Closed())

    def action_done(self) -> None:
        self.post_message(self.Done())

    def action_complete(self) -> None:
        """Tab: the one completion is taken; several are listed and their common start taken."""
        field = self.input
        query, cursor = field.value, field.cursor_position
        choices = self._complete(query, cursor)
        if not choices:
            self.app.bell()
            return
        start, end = self._span(query, cursor)
        word = choices[0] if len(choices) == 1 else common_start(choices)
        if len(choices) == 1 and not word.endswith(":"):
            word += " "
        if len(word) > cursor - start:  # never shorter than what is typed
            field.value = query[:start] + word + query[end:]
            field.cursor_position = start + len(word)
        if len(choices) > 1:
            self.say("  ".join(choices[:12]) + ("  …" if len(choices) > 12 else ""))
