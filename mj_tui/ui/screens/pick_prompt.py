"""The prompts a /describe or /shorten came back with: pick one.

enter puts the highlighted prompt in the prompt box (to edit before sending);
ctrl+j imagines it now, as it is; 1-5 highlight a prompt; escape closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from ..look import MUTED
from ..text import literal
from .dialog import Dialog


@dataclass(frozen=True)
class PromptChoice:
    index: int  # 1-based, as Midjourney numbers them
    prompt: str
    then: Literal["compose", "imagine"]


class PickPromptDialog(Dialog[PromptChoice | None]):
    BUTTON_ACTIONS: ClassVar[dict[str, str]] = {
        "compose": "choose('compose')",
        "imagine": "choose('imagine')",
        "cancel": "cancel",
    }
    BINDINGS = [
        Binding(
            "ctrl+j,ctrl+s",
            "choose('imagine')",
            "Imagine",
            id="pick-prompt-imagine",
            priority=True,
            tooltip="Imagine the highlighted prompt now (a paid job)",
        ),
        Binding(
            "enter",
            "choose('compose')",
            "To prompt box",
            id="pick-prompt-compose",
            priority=True,
            tooltip="Put the highlighted prompt in the prompt box",
        ),
        Binding("escape", "cancel", "Close", id="pick-prompt-close", tooltip="Close"),
    ]

    def __init__(self, title: str, explanation: str, prompts: list[str], *, price: str = "") -> None:
        super().__init__(title)
        self.explanation = explanation
        self.prompts = prompts
        self.price = price

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-prompt", classes="dialog"):
            yield self.title_label(self.dialog_title)
            yield Label(literal(self.explanation, MUTED), classes="dialog-text")
            yield OptionList(
                *(Option(literal(f"{i}  {p}"), id=str(i)) for i, p in enumerate(self.prompts, 1)),
                id="pick-prompt-list",
            )
            yield self.button_row(
                Button("To prompt box  enter", variant="primary", id="compose", compact=True),
                Button(f"Imagine now  ctrl+j{('  ' + self.price) if self.price else ''}", id="imagine", compact=True),
                Button("Close  esc", id="cancel", compact=True),
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def on_key(self, event) -> None:
        if event.key.isdigit() and 1 <= int(event.key) <= len(self.prompts):
            self.query_one(OptionList).highlighted = int(event.key) - 1
            event.stop()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click on a prompt: to the prompt box
        self.action_choose("compose")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and parameters == ("compose",):
            # enter on a focused button presses that button instead
            return not isinstance(self.focused, Button)
        return True

    def action_choose(self, then: Literal["compose", "imagine"]) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None:
            self.app.bell()
            return
        self.dismiss(PromptChoice(index + 1, self.prompts[index], then))
