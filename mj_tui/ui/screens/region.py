"""Vary (Region): select the areas to repaint over the picture, edit the prompt, send.

The selections are rectangles drawn with the keys or the mouse (see
:class:`~mj_tui.ui.widgets.mask_editor.MaskEditor`); the mask sent is a PNG at the
image's own resolution, white where Midjourney should repaint and black where it
should keep the picture.  The service sends it as OhMyGPT's ``base64Mask`` or as
the proxy's modal ``maskBase64``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static, TextArea

from ..look import MUTED
from ..text import literal
from ..widgets.mask_editor import PRESETS, MaskEditor
from .dialog import Dialog

Box = tuple[float, float, float, float]  # left, top, right, bottom as fractions of the image
EDITOR_MAX_SIDE = 512  # the picture the editor draws from: plenty for a terminal


@dataclass(frozen=True)
class RegionResult:
    boxes: list[Box]
    prompt: str


def build_mask(size: tuple[int, int], boxes: list[Box]) -> Image.Image:
    """A black "L" image of `size`, white inside every box (white = repaint)."""
    width, height = size
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    for left, top, right, bottom in boxes:
        x0, y0 = round(left * width), round(top * height)
        x1, y1 = round(right * width), round(bottom * height)
        if x1 > x0 and y1 > y0:
            draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=255)
    return mask


def mask_data_uri(image_path: Path, boxes: list[Box]) -> str:
    """The mask as a PNG data URI, the size of the image at `image_path`."""
    from ...core.uploads import png_data_uri

    with Image.open(image_path) as image:
        size = image.size
    return png_data_uri(build_mask(size, boxes))


def load_for_editor(image_path: Path) -> Image.Image:
    """The picture, small enough to redraw quickly (call from a thread)."""
    with Image.open(image_path) as image:
        image.load()
        picture = image.convert("RGB")
    picture.thumbnail((EDITOR_MAX_SIDE, EDITOR_MAX_SIDE))
    return picture


class RegionDialog(Dialog[RegionResult | None]):
    """Returns the selected boxes and the prompt, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+j,ctrl+s", "send", "Send", id="region-send", priority=True, tooltip="Send Vary (Region)"),
        Binding("escape", "cancel", "Cancel", id="region-cancel", tooltip="Close without sending"),
    ]

    def __init__(
        self, title: str, prompt: str, picture: Image.Image, *, price: str = "", prompt_fixed: str = ""
    ) -> None:
        """prompt_fixed: why the prompt cannot be changed here (shown; the box is read-only)."""
        super().__init__(title)
        self.prompt = prompt
        self.picture = picture
        self.price = price
        self.prompt_fixed = prompt_fixed

    def compose(self) -> ComposeResult:
        with Vertical(id="region", classes="dialog"):
            yield self.title_label(self.dialog_title)
            yield Label(
                literal(
                    "arrows move · shift+arrows or +/- resize · a adds · space next · del deletes · "
                    "c clears · 1-9 presets · drag with the mouse",
                    MUTED,
                ),
                classes="dialog-text",
                id="region-help",
            )
            editor = MaskEditor(self.picture, id="region-editor")
            editor.border_title = "Areas to repaint"
            # the full key line above goes on 24 rows; the border keeps the essentials
            editor.border_subtitle = "arrows · shift+arrows · a add · del · drag"
            yield editor
            yield Static("", id="region-status", markup=False)
            area = TextArea(
                self.prompt, id="region-prompt", soft_wrap=True, tab_behavior="focus", read_only=bool(self.prompt_fixed)
            )
            if self.prompt_fixed:
                area.border_title = self.prompt_fixed
            yield area
            yield self.send_cancel()

    def on_mount(self) -> None:
        self.query_one(TextArea).cursor_blink = self.app.blink_cursor
        editor = self.query_one(MaskEditor)
        editor.add()  # a centre selection to start from: arrows move it at once
        editor.focus()
        self._status()

    @property
    def editor(self) -> MaskEditor:
        return self.query_one(MaskEditor)

    def on_key(self, event) -> None:
        # digits place the active selection on a preset area while the picture has focus
        # (the prompt box keeps its digits)
        if event.key in PRESETS and self.focused is self.editor:
            self.editor.preset(event.key)
            event.stop()

    @on(MaskEditor.Changed)
    def _changed(self, event: MaskEditor.Changed) -> None:
        event.stop()
        self._status()

    def _status(self) -> None:
        editor = self.editor
        count = len(editor.selections)
        if count:
            share = round(editor.covered() * 100)
            active = f" · #{editor.active + 1} active" if editor.active is not None and count > 1 else ""
            text = f"{count} area{'s' if count > 1 else ''} · {share}% of the image repainted{active}"
            style = MUTED
        else:
            text, style = "No area selected: a adds one, or drag on the picture.", "$warning"
        if self.price:
            text += f"  ·  {self.price}"
        self.query_one("#region-status", Static).update(literal(text, style))

    def action_send(self) -> None:
        # after the keys already typed into the prompt box (ctrl+j jumps the queue)
        self.query_one(TextArea).call_later(self._send_now)

    def _send_now(self) -> None:
        boxes = self.editor.boxes()
        if not boxes:
            self.app.bell()
            self.query_one("#region-status", Static).update(
                literal("Select at least one area to repaint first (a adds one).", "$error")
            )
            return
        prompt = "" if self.prompt_fixed else self.query_one(TextArea).text.strip()
        self.dismiss(RegionResult(boxes, prompt))
