"""One task in the gallery: its picture (or why there is none) over a one-line caption.

Three widgets at most (the state line, the caption, the picture once it comes): a page of
tiles mounts and lays out in one go, so fewer widgets is a faster gallery.

The tile only displays: the gallery screen decides what it shows, fetches and
fits the picture in a worker, and hands it over ready to draw.
"""

from __future__ import annotations

from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from ...core.models import Status, Task
from ..look import MUTED
from ..picture_fit import cells_for
from ..task_format import STATUS_LOOK, bar_runs, status_run
from ..text import literal

CAPTION_ROWS = 1


class Tile(Vertical):
    """A gallery cell. `index` is its place on the page (0 top-left, row by row)."""

    DEFAULT_CSS = """
    Tile {
        border: round $panel-lighten-1;
        padding: 0;
        height: 1fr;
        width: 1fr;
        align: center middle;
    }
    Tile.-selected {
        border: heavy $accent;
    }
    Tile.-empty {
        border: none;
    }
    Tile > .tile-caption {
        dock: bottom;
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    Tile.-selected > .tile-caption {
        text-style: bold;
    }
    Tile > .tile-state {
        width: 1fr;
        height: auto;
        content-align: center middle;
        text-align: center;
        color: $text-muted;
    }
    """

    class Clicked(Message):
        """A click on a tile: select it (a double click also opens it)."""

        def __init__(self, tile: Tile, chain: int) -> None:
            super().__init__()
            self.tile = tile
            self.chain = chain

    def __init__(self, index: int, image_class: type[Widget] | None, pixels_per_cell: tuple[int, int]) -> None:
        super().__init__()
        self.index = index
        self.image_class = image_class
        self.pixels_per_cell = pixels_per_cell
        self.shown_task: Task | None = None
        #: the image key of the picture shown, so an unchanged task keeps it
        self.picture_key: str | None = None
        self._image: Widget | None = None

    def compose(self) -> ComposeResult:
        yield Static(classes="tile-caption", markup=False)
        yield Static(classes="tile-state", markup=False)

    # -- what it shows ----------------------------------------------------------------
    def show(self, task: Task | None) -> None:
        """A task (None: an empty cell past the end of the list). Keeps the picture when
        it is of the same image."""
        before, self.shown_task = self.shown_task, task
        if task is None or before is None or before.id != task.id:
            self.say("")  # another task's picture must not stand under this caption
        self.set_class(task is None, "-empty")
        if task is None:
            self.query_one(".tile-caption", Static).update("")
            self.say("")
            return
        self._caption(task)
        if not has_picture(task):
            self.say(_state(task))

    def mark(self, task: Task) -> None:
        """The same task with its star or tags changed: the caption only."""
        self.shown_task = task
        self._caption(task)

    def _caption(self, task: Task) -> None:
        """Status, a star, the prompt's words (tags in the gallery's detail line)."""
        star: Content | str = Content.styled("★ ", "bold $warning") if task.starred else ""
        caption = self.query_one(".tile-caption", Static)
        caption.update(Content.assemble(status_run(task), " ", star, literal(_words(task), one_line=True)))

    @property
    def wants_picture(self) -> bool:
        return self.shown_task is not None and has_picture(self.shown_task)

    def picture_cells(self) -> tuple[int, int]:
        """The cells the picture may fill: the tile less its border and caption."""
        width, height = self.content_size
        return max(1, width), max(1, height - CAPTION_ROWS)

    def say(self, text: Content | str) -> None:
        """A sentence instead of the picture: running, failed, unavailable, loading."""
        self.picture_key = None
        state = self.query_one(".tile-state", Static)
        state.update(text)
        state.display = True
        if self._image is not None:
            self._image.display = False

    def show_picture(self, key: str, image: PILImage.Image) -> None:
        """The fitted picture (already encoded for kitty or Sixel where that applies)."""
        if self.image_class is None:
            return
        if self._image is None:
            self._image = self.image_class(classes="tile-image")
            self.mount(self._image)
        cols, rows = cells_for(image, self.pixels_per_cell)
        self._image.styles.width = cols
        self._image.styles.height = rows
        self._image.image = image  # type: ignore[attr-defined]  # textual-image's widgets have it
        self._image.display = True
        self.query_one(".tile-state", Static).display = False
        self.picture_key = key

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self, event.chain))


def has_picture(task: Task) -> bool:
    """A finished task with an image (a describe or shorten has only text)."""
    return task.status == Status.SUCCESS and bool(task.image_urls)


def _words(task: Task) -> str:
    return task.prompt or task.description or task.final_prompt or task.id


def _state(task: Task) -> Content:
    """What a tile without a picture says about its task."""
    _, style, word = STATUS_LOOK.get(task.status, STATUS_LOOK[Status.UNKNOWN])
    if task.status.in_flight:
        return Content.assemble((f"{word}\n", style), *bar_runs(task.progress, 6))
    if task.status == Status.FAILURE:
        return Content.assemble(("failed\n", "$error"), literal(task.fail_reason or "no reason given", one_line=True))
    if task.status == Status.SUCCESS:
        return Content.styled("no image\n(a text result)", MUTED)
    return Content.styled(word, style)


def tile_grid(width: int, height: int, pixels_per_cell: tuple[int, int]) -> tuple[int, int]:
    """(columns, rows) of tiles for a width x height area: tiles of at least 16 columns
    (20 on a wide screen), each as tall as a square picture in it plus its border and
    caption, so a page shows as many pictures as fit without shrinking them to nothing."""
    px, py = pixels_per_cell
    least = 20 if width >= 120 else 16
    columns = max(1, width // least)
    inner = max(1, width // columns - 2)
    picture_rows = max(2, -(-inner * px // py))
    rows = max(1, height // (picture_rows + CAPTION_ROWS + 2))
    return columns, rows
