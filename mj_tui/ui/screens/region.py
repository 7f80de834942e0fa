"""Vary (Region), minimal: pick an area of the image (quadrant, half or centre),
edit the prompt, send.  The mask is a black/white PNG: white = repaint.

A free-hand mask editor is a later issue; a fixed set of areas already covers
the common "redo this corner" case with keys only.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from ..text import literal
from ...core.uploads import png_data_uri

# key -> (label, box as fractions of the image: left, top, right, bottom)
AREAS: dict[str, tuple[str, tuple[float, float, float, float]]] = {
    "1": ("top-left quarter", (0, 0, 0.5, 0.5)),
    "2": ("top-right quarter", (0.5, 0, 1, 0.5)),
    "3": ("bottom-left quarter", (0, 0.5, 0.5, 1)),
    "4": ("bottom-right quarter", (0.5, 0.5, 1, 1)),
    "5": ("centre", (0.25, 0.25, 0.75, 0.75)),
    "6": ("top half", (0, 0, 1, 0.5)),
    "7": ("bottom half", (0, 0.5, 1, 1)),
    "8": ("left half", (0, 0, 0.5, 1)),
    "9": ("right half", (0.5, 0, 1, 1)),
}


def region_mask(image_path: Path, area: str) -> str:
    """A data-URI PNG the size of the image, white where Midjourney should repaint."""
    with Image.open(image_path) as image:
        width, height = image.size
    left, top, right, bottom = AREAS[area][1]
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).rectangle(
        (round(left * width), round(top * height), round(right * width) - 1, round(bottom * height) - 1), fill=255
    )
    return png_data_uri(mask)


class RegionDialog(ModalScreen[tuple[str, str] | None]):
    """Returns (area key, prompt), or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+j,ctrl+s", "send", "Send", id="region-send", priority=True),
        Binding("escape", "cancel", "Cancel", id="region-cancel"),
    ]

    def __init__(self, title: str, prompt: str) -> None:
        super().__init__()
        self.dialog_title = title
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="region", classes="dialog"):
            yield Label(literal(self.dialog_title, "bold"), classes="dialog-title")
            yield Label("Pick the area to repaint (1-9), then edit the prompt.", classes="dialog-text")
            yield OptionList(*(Option(f"{key}  {label}", id=key) for key, (label, _) in AREAS.items()),
                             id="region-areas")
            yield TextArea(self.prompt, id="region-prompt", soft_wrap=True, tab_behavior="focus")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send  ctrl+j", variant="primary", id="send", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).cursor_blink = self.app.blink_cursor
        areas = self.query_one(OptionList)
        areas.highlighted = 0
        areas.focus()

    def on_key(self, event) -> None:
        # digits pick an area while the list has focus (the prompt box keeps its digits)
        if event.key in AREAS and self.focused is self.query_one(OptionList):
            self.query_one(OptionList).highlighted = int(event.key) - 1
            event.stop()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one(TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send() if event.button.id == "send" else self.action_cancel()

    def action_send(self) -> None:
        # after the keys already typed into the prompt box (ctrl+j jumps the queue)
        self.query_one(TextArea).call_later(self._send_now)

    def _send_now(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is None:
            self.app.bell()
            return
        self.dismiss((option.id, self.query_one(TextArea).text.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
