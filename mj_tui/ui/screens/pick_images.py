"""Pick image files for /blend (2-5 and a shape) or /describe (one).

A folder tree that lists only folders and images (enter on a file picks it,
backspace goes up a folder), the picked files (delete removes one) and a box to
type or paste paths (enter adds them; a folder path opens it in the tree).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DirectoryTree, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..look import MUTED
from ..text import literal
from ..widgets.composer import split_paths
from ..widgets.segments import Segments
from .dialog import Dialog

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
SHAPES = [("Portrait", "PORTRAIT"), ("Square", "SQUARE"), ("Landscape", "LANDSCAPE")]


@dataclass(frozen=True)
class Picked:
    paths: list[Path]
    dimensions: str | None = None  # blend only: PORTRAIT | SQUARE | LANDSCAPE
    folder: Path | None = None  # the folder shown at the end: where the next picker opens


class ImageTree(DirectoryTree):
    """Folders and image files only; hidden entries left out; backspace: the folder above."""

    BINDINGS = [
        Binding("backspace", "up_folder", "Up a folder", id="tree-up", tooltip="Show the folder above"),
    ]

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
                    out.append(path)
            except OSError:  # a broken link or a folder we may not read
                continue
        return out

    def action_up_folder(self) -> None:
        root = Path(self.path).resolve()
        if root.parent != root:
            self.go(root.parent)

    def go(self, folder: Path) -> None:
        self.path = folder
        self.border_title = f"Folder {short_path(folder)}"
        self.post_message(FolderChanged())


class FolderChanged(Message):
    """The tree shows another folder (an old error line no longer applies)."""


def short_path(path: Path) -> str:
    text = str(path)
    home = str(Path.home())
    if text == home or text.startswith(home + "/"):
        text = "~" + text[len(home) :]
    return text if len(text) <= 40 else "…" + text[-39:]


class PickImagesDialog(Dialog[Picked | None]):
    BINDINGS = [
        Binding("ctrl+j,ctrl+s", "send", "Send", id="pick-send", priority=True, tooltip="Send the picked images"),
        Binding("escape", "cancel", "Cancel", id="pick-cancel", tooltip="Close without sending"),
        Binding("delete", "remove", "Remove", id="pick-remove", tooltip="Remove the highlighted picked image"),
    ]

    def __init__(
        self,
        title: str,
        start: Path,
        *,
        least: int,
        most: int,
        shapes: bool = False,
        price: str = "",
        explanation: str = "",
    ) -> None:
        super().__init__(title)
        self.start = start
        self.least = least
        self.most = most
        self.shapes = shapes
        self.price = price
        self.explanation = explanation
        self.picked: list[Path] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="pick", classes="dialog"):
            yield self.title_label(self.dialog_title)
            if self.explanation:
                yield Label(literal(self.explanation, MUTED), classes="dialog-text", id="pick-help")
            with Horizontal(id="pick-panes"):
                tree = ImageTree(self.start, id="pick-tree")
                tree.border_title = "Folder"
                tree.border_subtitle = "enter picks · ⌫ up"
                yield tree
                picked = OptionList(id="pick-list")
                picked.border_title = f"Picked 0/{self.most}"
                picked.border_subtitle = "del removes"
                yield picked
            yield Input(placeholder="or type a path and press enter (~ and quotes work)", id="pick-path", compact=True)
            if self.shapes:
                with Horizontal(id="pick-shape-row"):
                    yield Label("Shape ", classes="pick-label")
                    yield Segments(SHAPES, "SQUARE", id="pick-shape")
            yield Static("", id="pick-status", markup=False)
            yield self.send_cancel()

    def on_mount(self) -> None:
        tree = self.query_one(ImageTree)
        tree.border_title = f"Folder {short_path(Path(tree.path))}"
        tree.focus()
        self._status()

    # -- picking ----------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return Path(self.query_one(ImageTree).path).resolve()

    def _typed_path(self, text: str) -> Path:
        """A typed path: ~ expanded; a relative one is taken from the folder on show."""
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.folder / path

    def add(self, path: Path) -> bool:
        path = path.expanduser()
        if not path.is_file():
            self._status(f"No file at {path}.", error=True)
            return False
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            self._status(f"{path.name} is not a PNG, JPEG, WebP or GIF image.", error=True)
            return False
        path = path.resolve()
        if path in self.picked:
            self._status(f"{path.name} is already picked.", error=True)
            return False
        if self.most == 1:
            self.picked = [path]  # describe: the new pick replaces the old one
        elif len(self.picked) >= self.most:
            self._status(f"At most {self.most} images; remove one first (delete).", error=True)
            return False
        else:
            self.picked.append(path)
        self._refresh_list()
        self._status()
        return True

    def _refresh_list(self) -> None:
        picked = self.query_one("#pick-list", OptionList)
        picked.set_options(Option(f"{i}. {p.name}", id=str(p)) for i, p in enumerate(self.picked, 1))
        picked.border_title = f"Picked {len(self.picked)}/{self.most}"
        if self.picked:
            picked.highlighted = len(self.picked) - 1

    def _status(self, message: str | None = None, *, error: bool = False) -> None:
        status = self.query_one("#pick-status", Static)
        if message:
            status.update(literal(message, "$error" if error else MUTED))
            return
        n = len(self.picked)
        if n < self.least:
            need = self.least - n
            text = (
                f"Pick {need} more image{'s' if need > 1 else ''}."
                if n
                else (f"Pick {self.least}–{self.most} images." if self.most > 1 else "Pick an image.")
            )
        else:
            text = "Ready: ctrl+j sends."
        if self.price:
            text += f"  {self.price}"
        status.update(literal(text, MUTED))

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.add(Path(event.path))

    @on(Input.Submitted, "#pick-path")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        added = True
        for text in split_paths(event.value):
            path = self._typed_path(text)
            if path.is_dir():
                self.query_one(ImageTree).go(path.resolve())
                continue
            added = self.add(path) and added
        if added:
            event.input.value = ""

    def action_remove(self) -> None:
        picked = self.query_one("#pick-list", OptionList)
        index = picked.highlighted
        if index is None or not self.picked:
            self.app.bell()
            return
        del self.picked[index]
        self._refresh_list()
        self._status()

    # -- closing ----------------------------------------------------------------------
    def action_send(self) -> None:
        # after keys already typed into the path box (ctrl+j jumps the queue)
        self.query_one("#pick-path", Input).call_later(self._send_now)

    def _send_now(self) -> None:
        typed = self.query_one("#pick-path", Input)
        if typed.value.strip():  # a path typed but not yet entered counts
            for text in split_paths(typed.value):
                if not self.add(self._typed_path(text)):
                    return
            typed.value = ""
        if not self.least <= len(self.picked) <= self.most:
            self.app.bell()
            what = f"{self.least}–{self.most} images" if self.most > 1 else "one image"
            self._status(f"Pick {what} first ({len(self.picked)} picked).", error=True)
            return
        shape = self.query_one(Segments).value if self.shapes else None
        self.dismiss(Picked(list(self.picked), shape, folder=self.folder))

    # an error line is about the last thing tried: editing or moving on clears it
    @on(Input.Changed, "#pick-path")
    @on(FolderChanged)
    @on(Segments.Changed)
    def _moved_on(self, event) -> None:
        event.stop()
        self._status()
