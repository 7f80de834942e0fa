"""The gallery: the task list's pictures as a grid of thumbnails, a page at a time.

It pages through the same list the task list shows (all tasks, or a search's
matches), with pages of as many tiles as fit. The thumbnails come from the same
image cache as the preview: downloaded a few at a time, scaled (and encoded for
kitty or Sixel) in threads, so moving around never waits for a picture. Enter
goes back to the main screen with that task selected; esc goes back to where
the list was.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from PIL import Image as PILImage
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from ...core.errors import MjError
from ...core.models import Page, Task
from ..look import MUTED
from ..picture_fit import backdrop_of, box_for, encode_ahead
from ..task_format import STATUS_LOOK, action_tag, age
from ..text import literal
from ..widgets.footer import KeyFooter
from ..widgets.tile import Tile, has_picture, tile_grid
from ..worker_errors import ReportWorkerErrors

if TYPE_CHECKING:
    from ...core.service import MjService

#: reads page `number` of the list with pages of `size` tasks
PageLoader = Callable[[int, int], Awaitable[Page]]

MOVE = Binding.Group("Move", compact=True)
PAGE = Binding.Group("Page", compact=True)
DOWNLOADS_AT_ONCE = 4  # pictures fetched together: a page shows in about one round trip
KEPT_PICTURES = 72  # fitted thumbnails kept in memory: the last few pages (about 15 MB with kitty at 120x40)
FIT_AHEAD_SECONDS = 0.3  # a page waits this long at most for its pictures, to appear whole
BATCH_SECONDS = 0.25  # a picture waits at most this long for others, to be shown in one frame with them
FITS_AT_ONCE = 2  # decoding and scaling take a core each (this box may have two)


@dataclass(frozen=True)
class GalleryChoice:
    """The task enter was pressed on, and its place in the whole list (0: the newest)."""

    task_id: str
    position: int


class GalleryScreen(ReportWorkerErrors, Screen[GalleryChoice | None]):
    BINDINGS = [
        Binding("left,h", "move(-1, 0)", "Move", id="gallery-left", key_display="←↑↓→", group=MOVE),
        Binding("right,l", "move(1, 0)", "Move", id="gallery-right", show=False),
        Binding("up,k", "move(0, -1)", "Move", id="gallery-up", show=False),
        Binding("down,j", "move(0, 1)", "Move", id="gallery-down", show=False),
        Binding("home", "move_to('first')", "First", id="gallery-home", show=False, tooltip="First picture"),
        Binding("end", "move_to('last')", "Last", id="gallery-end", show=False, tooltip="Last picture"),
        Binding("enter", "open", "Open", id="gallery-open", tooltip="Back to the task list, on this task"),
        Binding("s", "save", "Save", id="gallery-save", tooltip="Save this picture to the pictures folder"),
        Binding("space,asterisk", "star", "Star", id="gallery-star", tooltip="Star this task, or unstar it"),
        Binding("t", "tags", "Tags", id="gallery-tags", show=False, tooltip="Tag this task (edit its tags)"),
        Binding(
            "left_square_bracket,pageup",
            "page(-1)",
            "Page",
            id="gallery-page-prev",
            key_display="[",
            group=PAGE,
            tooltip="Previous page",
        ),
        Binding(
            "right_square_bracket,pagedown",
            "page(1)",
            "Page",
            id="gallery-page-next",
            key_display="]",
            group=PAGE,
            tooltip="Next page",
        ),
        Binding(
            "left_curly_bracket", "page_to('first')", "First page", id="gallery-page-first", show=False, key_display="{"
        ),
        Binding(
            "right_curly_bracket", "page_to('last')", "Last page", id="gallery-page-last", show=False, key_display="}"
        ),
        Binding("escape,q", "back", "Back", id="gallery-back", tooltip="Back to the task list as it was"),
    ]

    DEFAULT_CSS = """
    GalleryScreen {
        layout: vertical;
    }
    GalleryScreen #gallery-title {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    GalleryScreen #tiles {
        layout: grid;
        height: 1fr;
        width: 1fr;
    }
    GalleryScreen #gallery-detail {
        height: 1;
        width: 1fr;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        color: $text-muted;
    }
    """

    def __init__(
        self,
        service: MjService,
        load: PageLoader,
        *,
        what: str,
        start: int,
        save: Callable[[Task], object],
        star: Callable[[Task, bool], Awaitable[Task]],
        tag: Callable[[Task], object],
        clock: Callable[[], datetime],
    ) -> None:
        """`what` names the list ("all tasks", a search); `start` is the position of the
        task to select first (0: the newest); `save` saves a task's picture;
        `star` stars or unstars a task and answers it as stored; `tag` edits a task's tags."""
        super().__init__()
        self.service = service
        self.load = load
        self.what = what
        self.position = max(0, start)
        self.save = save
        self.star = star
        self.tag = tag
        self.clock = clock
        self.grid: tuple[int, int] = (0, 0)  # tile columns, rows
        self.page: Page | None = None
        self.index = 0  # the selected tile
        self._generation = 0  # bumped per page shown: late pictures of an old page are dropped
        # fitted pictures wait here to be shown together: each one shown alone would cost
        # a layout and a frame of the whole grid
        self._ready: list[tuple[Tile, Task, str, PILImage.Image, int]] = []
        self._flush_timer: Timer | None = None
        # fitted (and encoded) pictures of the pages seen last: paging back shows them at once
        self._fitted: OrderedDict[tuple[str, tuple], PILImage.Image] = OrderedDict()
        # pictures being fetched and fitted, shared by whoever wants them (the page about
        # to be shown, then its tiles); `_wanted` says which are still worth the work
        self._fitting: dict[tuple[str, tuple], asyncio.Future[PILImage.Image | None]] = {}
        self._wanted: set[tuple[str, tuple]] = set()
        self._downloads = asyncio.Semaphore(DOWNLOADS_AT_ONCE)
        self._fits = asyncio.Semaphore(FITS_AT_ONCE)
        self._laid_out = False  # the tiles have their sizes (a page after the first needs no layout first)
        self._loading = False

    # -- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="gallery-title", markup=False)
        yield Container(id="tiles")
        yield Static(id="gallery-detail", markup=False)
        yield KeyFooter()

    @property
    def per_page(self) -> int:
        columns, rows = self.grid
        return columns * rows

    @property
    def tiles(self) -> list[Tile]:
        return list(self.query(Tile))

    @property
    def current(self) -> Task | None:
        tiles = self.tiles
        return tiles[self.index].shown_task if 0 <= self.index < len(tiles) else None

    def reopen(self, load: PageLoader, *, what: str, start: int) -> None:
        """Shown again (the screen is kept between openings): the list as it is now, from
        the task at `start`. Its tiles stay mounted and its last pictures stay fitted."""
        self.load, self.what = load, what
        self.position = max(0, start)
        if self.per_page:  # laid out before (a new size, if any, lays it out again)
            self._show_page(self.position // self.per_page + 1, self.position % self.per_page)

    async def on_resize(self) -> None:
        area = self.query_one("#tiles").size
        if area.width and area.height:
            await self._layout(area.width, area.height)

    async def _layout(self, width: int, height: int) -> None:
        grid = tile_grid(width, height, self.app.pixels_per_cell)  # type: ignore[attr-defined]
        self._laid_out = False  # the tiles' sizes are known again after the next layout
        if grid == self.grid:
            # the same tiles, another size: the pictures are fitted again once laid out
            self.call_after_refresh(self._refit)
            return
        self.grid = grid
        # the tiles are about to go: pictures fitted for them are dropped, late ones too
        self._generation += 1
        self._ready.clear()
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        columns, rows = grid
        container = self.query_one("#tiles")
        container.styles.grid_size_columns = columns
        container.styles.grid_size_rows = rows
        await container.remove_children()
        image_class = self.app.image_class  # type: ignore[attr-defined]
        await container.mount_all(Tile(i, image_class, self.app.pixels_per_cell) for i in range(columns * rows))  # type: ignore[attr-defined]
        self.page = None
        self._show_page(self.position // self.per_page + 1, self.position % self.per_page)

    # -- pages ------------------------------------------------------------------------
    def _show_page(self, number: int, index: int) -> None:
        self._loading = True
        self._title()
        self._load_page(number, index)

    @work(group="gallery-page", exclusive=True, exit_on_error=False)
    async def _load_page(self, number: int, index: int) -> None:
        try:
            page = await self.load(number, self.per_page)
            if not page.tasks and number > 1 and page.total:  # the list got shorter meanwhile
                page = await self.load(page.pages, self.per_page)
                index = len(page.tasks) - 1
            if self._laid_out and self.app.image_class is not None:  # type: ignore[attr-defined]
                await self._fit_ahead(page)
        finally:
            self._loading = False
        self._fill(page, index)

    async def _fit_ahead(self, page: Page) -> None:
        """The page's pictures, fitted before it is shown (the tiles keep their sizes from
        page to page): it then appears whole, in one frame. A picture that takes longer
        (a download) follows in its tile."""
        wanted = [
            (task, tile.picture_cells(), backdrop_of(tile))
            for tile, task in zip(self.tiles, page.tasks, strict=False)
            if has_picture(task)
        ]
        self._wanted = {self._key(task, cells, backdrop) for task, cells, backdrop in wanted}
        jobs = [self._fitted_picture(task, cells, backdrop) for task, cells, backdrop in wanted]
        if jobs:
            await asyncio.wait(jobs, timeout=FIT_AHEAD_SECONDS)

    def _key(self, task: Task, cells: tuple[int, int], backdrop: tuple) -> tuple[str, tuple]:
        return f"{self.service.image_key(task)} {cells}", backdrop

    def _fitted_picture(
        self, task: Task, cells: tuple[int, int], backdrop: tuple
    ) -> asyncio.Future[PILImage.Image | None]:
        """The picture fitted to `cells`: from memory, or fetched and fitted once for
        everyone who asks meanwhile. None when no page wants it any more."""
        key = self._key(task, cells, backdrop)
        future: asyncio.Future[PILImage.Image | None]
        image = self._fitted.get(key)
        if image is not None:
            self._fitted.move_to_end(key)
            future = asyncio.get_running_loop().create_future()
            future.set_result(image)
            return future
        job = self._fitting.get(key)
        if job is None:
            job = asyncio.ensure_future(self._fit_job(task, cells, backdrop, key))
            job.add_done_callback(lambda done: done.cancelled() or done.exception())  # (read: no warning)
            self._fitting[key] = job
        return job

    async def _fit_job(self, task: Task, cells: tuple[int, int], backdrop: tuple, key: tuple[str, tuple]):
        try:
            async with self._downloads:
                if key not in self._wanted:
                    return None  # paged on meanwhile
                await self.service.fetch_image(task)
            async with self._fits:
                if key not in self._wanted:
                    return None
                image = await asyncio.to_thread(self._fit, task, cells, backdrop)
        finally:
            self._fitting.pop(key, None)
        self._fitted[key] = image
        while len(self._fitted) > KEPT_PICTURES:
            self._fitted.popitem(last=False)
        return image

    def _fill(self, page: Page, index: int) -> None:
        self.page = page
        self._generation += 1
        for tile, task in zip(self.tiles, [*page.tasks, *[None] * self.per_page], strict=False):
            tile.show(task)
            if self._laid_out and tile.wants_picture and task is not None:
                cells, backdrop = tile.picture_cells(), backdrop_of(tile)
                image = self._fitted.get(self._key(task, cells, backdrop))
                if image is not None:  # fitted ahead (or seen a moment ago): in this same frame
                    tile.show_picture(self._key(task, cells, backdrop)[0], image)
        self._select(max(0, min(index, len(page.tasks) - 1)))
        self._title()
        if self._laid_out:  # another page on the same tiles: their sizes are known
            self._refit()
        else:  # after the next layout: a tile knows its size (the picture's box) only then
            self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        """Fetch and fit the page's pictures; a tile already showing its picture at its
        size keeps it."""
        self._laid_out = True
        self._pictures(self._generation, [t for t in self.tiles if t.wants_picture])

    def _title(self) -> None:
        page = self.page
        parts = [f"Gallery · {self.what}"]
        if page is not None:
            parts.append(f"page {page.page} of {page.pages}")
            parts.append(f"{page.total} task{'' if page.total == 1 else 's'}")
            if not page.tasks:
                parts.append("nothing to show")
        if self._loading:
            parts.append("loading…")
        self.query_one("#gallery-title", Static).update(" · ".join(parts))

    # -- pictures ---------------------------------------------------------------------
    @work(group="gallery-pictures", exclusive=True, exit_on_error=False)
    async def _pictures(self, generation: int, tiles: list[Tile]) -> None:
        # the selected tile first, the rest in reading order
        tiles.sort(key=lambda t: (t.index != self.index, t.index))
        wanted = [(t, t.shown_task, t.picture_cells(), backdrop_of(t)) for t in tiles if t.shown_task is not None]
        self._wanted = {self._key(task, cells, backdrop) for _, task, cells, backdrop in wanted if task is not None}
        await asyncio.gather(*(self._picture(tile, generation) for tile in tiles))
        self._flush()  # the last ones now: nothing else is coming

    async def _picture(self, tile: Tile, generation: int) -> None:
        task = tile.shown_task
        if task is None:
            return
        cells, backdrop = tile.picture_cells(), backdrop_of(tile)
        key = self._key(task, cells, backdrop)
        if tile.picture_key == key[0]:
            return  # already there at this size (the same task, refreshed)
        if self.app.image_class is None:  # type: ignore[attr-defined]
            tile.say(Content.styled("previews off", MUTED))
            return
        self._wanted.add(key)
        if tile.picture_key is None and key not in self._fitted:  # (a picture being refitted stays up meanwhile)
            tile.say(Content.styled("loading…", MUTED))
        try:
            image = await asyncio.shield(self._fitted_picture(task, cells, backdrop))
        except MjError as exc:
            if generation == self._generation and tile.shown_task is task and tile.is_attached:
                tile.say(Content.assemble(("unavailable\n", "$warning"), literal(exc.message, one_line=True)))
            return
        if image is not None:
            self._deliver(tile, task, key[0], image, generation)

    def _deliver(self, tile: Tile, task: Task, key: str, image: PILImage.Image, generation: int) -> None:
        if generation == self._generation and tile.shown_task is task:
            self._ready.append((tile, task, key, image, generation))
            if self._flush_timer is None:
                self._flush_timer = self.set_timer(BATCH_SECONDS, self._flush)

    def _flush(self) -> None:
        """Show the pictures fitted since the last time, in one layout and one frame."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        ready, self._ready = self._ready, []
        with self.app.batch_update():
            for tile, task, key, image, generation in ready:
                if generation == self._generation and tile.shown_task is task and tile.is_attached:
                    tile.show_picture(key, image)

    def _fit(self, task: Task, cells: tuple[int, int], backdrop: tuple) -> PILImage.Image:
        """The thumbnail, fitted to the tile and encoded for the terminal (in a thread)."""
        pixels_per_cell = self.app.pixels_per_cell  # type: ignore[attr-defined]
        image = self.service.preview(task, *box_for(cells, pixels_per_cell))
        encode_ahead(self.app.image_class, image, pixels_per_cell, backdrop)  # type: ignore[attr-defined]
        return image

    def update_task(self, task: Task) -> None:
        """A task moved on (the poller saw it): its tile shows the news, a finished
        picture included."""
        for tile in self.tiles:
            if tile.shown_task is not None and tile.shown_task.id == task.id:
                tile.show(task)
                if tile.index == self.index:
                    self._detail()
                if tile.wants_picture:
                    self._pictures_of(self._generation, [tile])

    @work(group="gallery-late-pictures", exit_on_error=False)
    async def _pictures_of(self, generation: int, tiles: list[Tile]) -> None:
        await asyncio.gather(*(self._picture(tile, generation) for tile in tiles))
        self._flush()

    # -- selection --------------------------------------------------------------------
    def _select(self, index: int) -> None:
        self.index = max(0, index)
        for tile in self.tiles:
            tile.set_class(tile.index == self.index and tile.shown_task is not None, "-selected")
        if self.page is not None and self.page.tasks:
            self.position = (self.page.page - 1) * self.page.page_size + self.index
        self._detail()

    def _detail(self) -> None:
        task = self.current
        detail = self.query_one("#gallery-detail", Static)
        if task is None:
            detail.update("")
            return
        _, style, word = STATUS_LOOK[task.status]
        facts = [f"#{task.id}", word, action_tag(task), age(task, self.clock())]
        facts += ["★" if task.starred else "", " ".join(f"#{t}" for t in task.tags)]
        text = " · ".join(literal(f, one_line=True).plain for f in facts if f)
        words = task.prompt or task.description or ""
        detail.update(Content.assemble((text, style), " · " if words else "", literal(words, one_line=True)))

    @on(Tile.Clicked)
    def _clicked(self, event: Tile.Clicked) -> None:
        if event.tile.shown_task is None:
            return
        self._select(event.tile.index)
        if event.chain >= 2:
            self.action_open()

    # -- keys -------------------------------------------------------------------------
    def action_move(self, dx: int, dy: int) -> None:
        page = self.page
        if page is None or not page.tasks:
            self.app.bell()
            return
        columns, _ = self.grid
        target = self.index + dx + dy * columns
        if 0 <= target < len(page.tasks):
            self._select(target)
        elif target >= len(page.tasks) and page.page < page.pages:
            # on past the end: the next page, at the start (→) or in the same column (↓)
            self._show_page(page.page + 1, 0 if dx else self.index % columns)
        elif target < 0 and page.page > 1:
            # back past the start: the previous page, at its end (←) or bottom row (↑)
            last = self.per_page - 1
            self._show_page(page.page - 1, last if dx else last - (columns - 1 - self.index % columns))
        else:
            self.app.bell()

    def action_move_to(self, where: str) -> None:
        if self.page is None or not self.page.tasks:
            return
        self._select(0 if where == "first" else len(self.page.tasks) - 1)

    def action_page(self, step: int) -> None:
        page = self.page
        if page is None or not 1 <= page.page + step <= page.pages:
            self.app.bell()
            return
        self._show_page(page.page + step, self.index)

    def action_page_to(self, where: str) -> None:
        page = self.page
        if page is None:
            return
        number = 1 if where == "first" else page.pages
        if number == page.page:
            self.app.bell()
            return
        self._show_page(number, 0)

    def action_open(self) -> None:
        task = self.current
        if task is None:
            self.app.bell()
            return
        self.dismiss(GalleryChoice(task.id, self.position))

    def action_save(self) -> None:
        task = self.current
        if task is None or not has_picture(task):
            self.notify("This task has no finished image.", severity="warning", timeout=3)
            return
        self.save(task)

    def action_star(self) -> None:
        task = self.current
        if task is None:
            self.app.bell()
            return
        self.run_worker(self.star(task, not task.starred), group="gallery-star", exit_on_error=False)

    def action_tags(self) -> None:
        task = self.current
        if task is None:
            self.app.bell()
            return
        self.tag(task)

    def update_marks(self, task: Task) -> None:
        """A task's star or tags changed: its tile and the detail line say so."""
        for tile in self.tiles:
            shown = tile.shown_task
            if shown is not None and shown.id == task.id:
                tile.mark(replace(shown, starred=task.starred, tags=task.tags))
                if tile.index == self.index:
                    self._detail()

    def action_back(self) -> None:
        self.dismiss(None)
