"""The selected task's image, or a plain sentence saying why there is none.

Download (async worker) and decode + downscale (thread worker) never block the
UI.  Images arrive already fitted to the pane, so the renderer only copies
pixels.  A grid gets its quadrants numbered above and below the picture, and
can be zoomed to one quadrant.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from PIL import Image as PILImage
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from ...core.errors import MjError
from ...core.models import Status, Task
from ...core.results import origin_name, suggested_prompts
from ..look import MUTED
from ..picture_fit import backdrop_of, cells_for, encode_ahead
from ..task_format import action_tag, age, bar_runs, elapsed
from ..text import literal

if TYPE_CHECKING:
    from ...core.service import MjService

LOADING_AFTER = 0.15  # s: a picture slower than this gets a "Loading image…" line
PREPARED_KEPT = 8  # ~1 MB each (base64 PNG or Sixel text of a pane-sized picture)

QUADRANT_NAMES = {1: "top-left", 2: "top-right", 3: "bottom-left", 4: "bottom-right"}


@dataclass(frozen=True)
class Shown:
    """What the image widget holds: which picture, which quadrant, which box."""

    key: str
    quadrant: int | None
    box: tuple[int, int]
    #: the task it is a picture of (not part of the comparison: the key names it)
    task: Task = field(compare=False, repr=False)


class PreviewPane(Vertical, can_focus=True):
    def __init__(
        self,
        image_class: type[Widget] | None,
        pixels_per_cell: tuple[int, int],
        clock: Callable[[], datetime],
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.image_class = image_class
        self.pixels_per_cell = pixels_per_cell
        self.clock = clock
        self.service: MjService | None = None  # set by the main screen once connected
        self.shown_task: Task | None = None
        self.quadrant: int | None = None
        self.shown: Shown | None = None  # what is on screen now
        self.wanted: Shown | None = None  # what the workers are fetching
        self._resize_timer: Timer | None = None
        self._texts: dict[str, tuple] = {}  # what each Static shows now (text, spans)
        self._image: Widget | None = None  # mounted after the first frame: see _mount_image
        # the last few pictures as the image widget's encoding wants them (kitty: base64
        # PNG; Sixel: its text), so going back to one costs no encoding
        self._prepared: OrderedDict[tuple[Shown, tuple[int, ...]], dict[str, object]] = OrderedDict()
        self._encoding = threading.Lock()  # decode threads take turns at the encoding
        self.border_title = "Preview"

    def compose(self) -> ComposeResult:
        yield Static(id="preview-caption", markup=False)
        # a full-width box so the picture and its numbers can be centred in it
        with Vertical(id="picture"):
            yield Static(id="quad-top", classes="quad-labels", markup=False)
            yield Static(id="quad-bottom", classes="quad-labels", markup=False)
        yield Static(id="preview-state", markup=False)
        yield Static(id="preview-prompt", markup=False)

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_image)

    def _mount_image(self) -> Widget | None:
        """The image widget, hidden until a picture arrives: mounted after the first frame
        (or on first use) so start-up does not style and lay it out."""
        if self._image is None and self.image_class is not None:
            self._image = self.image_class(id="preview-image")
            self._image.display = False
            self.query_one("#picture").mount(self._image, after="#quad-top")
        return self._image

    @property
    def image_widget(self) -> Widget | None:
        return self._image

    def use_graphics(
        self, image_class: type[Widget] | None, pixels_per_cell: tuple[int, int], *, pending: bool
    ) -> None:
        """Draw with another renderer from now on (the terminal has answered)."""
        self.image_class, self.pixels_per_cell = image_class, pixels_per_cell
        if self._image is not None:
            self._image.remove()
            self._image = None
        self._prepared.clear()
        self.shown = self.wanted = None
        self._mount_image()
        self._refresh_view()

    def _asking(self) -> bool:
        graphics = getattr(self.app, "graphics", None)
        return bool(graphics is not None and getattr(graphics, "pending", False))

    # -- what to show -----------------------------------------------------------------
    def show(self, task: Task | None) -> None:
        if task is None or self.shown_task is None or task.id != self.shown_task.id:
            self.quadrant = None
        self.shown_task = task
        self._refresh_view()

    def zoom(self, quadrant: int | None) -> bool:
        """Zoom into one quadrant of a grid (None: the whole grid); False if not a grid."""
        task = self.shown_task
        if quadrant is not None and (task is None or not task.is_grid or task.status != Status.SUCCESS):
            return False
        if quadrant != self.quadrant:
            self.quadrant = quadrant
            self._refresh_view()
        return True

    def on_resize(self) -> None:
        # a drag-resize sends many of these: decode once it has settled
        if self._resize_timer is not None:
            self._resize_timer.stop()
        self._resize_timer = self.set_timer(0.15, self._refresh_view)

    def _refresh_view(self) -> None:  # noqa: RET503 (each `return self._text_state(...)` ends a state; all are None)
        task = self.shown_task
        self._caption(task)
        prompts = suggested_prompts(task) if task is not None and task.status == Status.SUCCESS else []
        self._update(
            "#preview-prompt",
            literal(task.final_prompt or task.prompt, MUTED) if task and not prompts else "",
            layout=None,
        )
        if task is None:
            return self._text_state(Content.styled("Select a task to preview it.", MUTED))
        if task.status.in_flight:
            text = Content.assemble(
                ("Rendering…  ", "bold"),
                *bar_runs(task.progress, 12),
                "\n",
                ("The image appears here when the job is done.", MUTED),
            )
            return self._text_state(text)
        if task.status == Status.MODAL:
            return self._text_state(Content.styled("Waiting for your input: press enter on the task.", "$warning"))
        if task.status == Status.FAILURE:
            return self._text_state(
                Content.assemble(("✘ Failed\n", "bold $error"), literal(task.fail_reason or "No reason was given."))
            )
        if task.status == Status.CANCEL:
            return self._text_state(Content.styled("This task was cancelled.", MUTED))
        if prompts:  # a finished describe or shorten: its prompts are the result
            lines = [Content.styled("enter on the task picks one", MUTED)]
            lines += [Content.assemble((f"{i} ", "bold $accent"), literal(p)) for i, p in enumerate(prompts, 1)]
            return self._text_state(Content("\n").join(lines))
        if not task.image_urls and not task.image_url:
            return self._text_state(literal(task.description if task.is_describe else "This task has no image."))
        # start now, so loading overlaps the redraw of the list and the action bar (~30 ms);
        # then once more after that refresh: the action bar may change height with the task,
        # and if the box it leaves differs, the picture is fitted again
        if self.content_size.area:
            self._want_image(task)
        self.call_after_refresh(self._want_image, task)

    def _caption(self, task: Task | None) -> None:
        if task is None:
            self._update("#preview-caption", "", layout=False)
            self._subtitle("")
            return
        now = self.clock()
        bits = [f"#{task.id}", action_tag(task)]
        if task.parent_id:  # lineage: which task and button made this one (g goes there)
            parent = self.service.get_cached(task.parent_id) if self.service is not None else None
            name = origin_name(task.origin_custom_id, parent)
            bits.append(f"from #{task.parent_id}" + (f" {name}" if name else ""))
        if task.mode:
            bits.append(task.mode.value)
        if task.is_video and len(task.video_urls) > 1:
            bits.append(f"{len(task.video_urls)} videos")
        if task.queued_ahead and task.status.in_flight:  # the server's queue, as it said at the send
            bits.append(f"{task.queued_ahead} ahead")
        if task.seed:
            bits.append(f"seed {task.seed}")
        if duration := elapsed(task, now):
            bits.append(duration)
        if when := age(task, now):
            bits.append(when)
        text = literal(" · ".join(bits), MUTED)
        if self.quadrant:
            text = Content.assemble(
                (f"quadrant {self.quadrant} · {QUADRANT_NAMES[self.quadrant]}", "bold $accent"), "  ", text
            )
            self._subtitle("0 back · u upscale · v vary · s save")
        elif task.is_video and task.status == Status.SUCCESS:
            self._subtitle("s save video · o open · y copy URL")
        elif task.is_grid and task.status == Status.SUCCESS:
            self._subtitle("1-4 zoom · s save")
        elif task.status == Status.SUCCESS and (task.image_urls or task.image_url):
            self._subtitle("s save · y copy" + (" · g parent" if task.parent_id else " · o open"))
        else:
            self._subtitle("")
        self._update("#preview-caption", text, layout=False)  # one line, always

    def _subtitle(self, text: str) -> None:
        # setting the border's text repaints the whole pane even when it is unchanged:
        # once a second while a job runs, ~6 kB to the terminal for nothing
        if self.border_subtitle != text:
            self.border_subtitle = text

    def _update(self, selector: str, content: Content | str, *, layout: bool | None = True) -> None:
        """Static.update, skipped when the content is what is shown already: a changed
        Static asks for a layout of the whole screen (~10 ms), which paging and moving
        the selection would otherwise pay on every key.  layout=None: only when the
        new text needs another number of lines (a height: auto Static)."""
        key = (content.plain, tuple(content.spans)) if isinstance(content, Content) else (content, ())
        if self._texts.get(selector) == key:  # Content's own == compares the text only
            return
        self._texts[selector] = key
        static = self.query_one(selector, Static)
        if layout is None:
            layout = True
            width = static.content_size.width
            if width > 0 and static.display:
                text = content if isinstance(content, Content) else Content(content)
                lines = len(text.wrap(width)) if text.plain else 0
                limit = static.styles.max_height
                cap = int(limit.value) if limit is not None and limit.is_cells else lines
                layout = min(lines, cap) != static.size.height
        static.update(content, layout=layout)

    def _text_state(self, text: Content) -> None:
        self.wanted = None
        self._show_parts(image=False, labels=False)
        # a progress tick changes the text, not its height: no layout (which would repaint
        # the whole pane, ~6 kB a second to the terminal while a job runs)
        self._update("#preview-state", text, layout=None)

    def _show_parts(self, *, image: bool, labels: bool) -> None:
        if (widget := self.image_widget) is not None:
            widget.display = image
        self.query_one("#preview-state").display = not image
        for label in self.query(".quad-labels"):
            label.display = labels

    # -- loading ----------------------------------------------------------------------
    def _box(self, task: Task) -> tuple[int, int]:
        """The pixel box the picture may fill, from the free cells of the pane."""
        width, height = self.content_size
        reserved = 1  # caption
        reserved += 2 if task.is_grid and not self.quadrant else 0  # quadrant numbers
        reserved += min(3, self.query_one("#preview-prompt").outer_size.height)
        cols, rows = max(1, width), max(1, height - reserved)
        px, py = self.pixels_per_cell
        return cols * px, rows * py

    def _want_image(self, task: Task) -> None:
        if self.service is None or task is not self.shown_task:
            return
        if self.image_class is None:
            if self._asking():  # the first frames, until the terminal says what it can draw
                self._text_state(Content.styled("Asking the terminal how to draw pictures…", MUTED))
            else:
                self._text_state(Content.styled("Image previews are off (--graphics none).", MUTED))
            return
        wanted = Shown(self.service.image_key(task), self.quadrant, self._box(task), task)
        if wanted == self.shown and self.image_widget is not None and self.image_widget.display:
            self.wanted = wanted
            return
        if wanted == self.wanted:
            return  # already on its way
        self.wanted = wanted
        if self.shown is None or self.shown.key != wanted.key:
            if self.image_widget is not None and self.image_widget.display:
                # picture to picture: a cached one is here in ~50 ms, so the old one stays up
                # until then instead of a "Loading" line flashing (and the pane laid out twice)
                self.set_timer(LOADING_AFTER, partial(self._still_loading, wanted))
            else:
                self._still_loading(wanted)
        self._fetch(task, wanted)

    def _still_loading(self, wanted: Shown) -> None:
        if self.wanted == wanted and self.shown != wanted:
            self._text_state(Content.styled("Loading image…", MUTED))
            self.wanted = wanted

    @work(exclusive=True, group="preview-fetch", exit_on_error=False)
    async def _fetch(self, task: Task, wanted: Shown) -> None:
        if self.service is None:
            return
        try:
            await self.service.fetch_image(task)
        except MjError as exc:  # unreachable or expired: say so in the pane itself
            if self.wanted == wanted:
                self._text_state(Content.assemble(("Image unavailable\n", "bold $warning"), literal(str(exc))))
            return
        if self.wanted == wanted:
            self._decode(wanted, self._backdrop())

    def _backdrop(self) -> tuple:
        return backdrop_of(self.image_widget or self)

    @work(thread=True, exclusive=True, group="preview-decode", exit_on_error=False)
    def _decode(self, wanted: Shown, backdrop: tuple) -> None:
        if self.service is None:
            return
        try:
            image = self.service.preview(wanted.task, *wanted.box, quadrant=wanted.quadrant)
        except MjError as exc:
            message = Content.assemble(("Image unavailable\n", "bold $warning"), literal(str(exc)))
            self.app.call_from_thread(self._failed, wanted, message)
            return
        if getattr(self.image_class, "prepare", None) is not None:
            # the drawing's own encoding (kitty graphics, Sixel), done here rather than on the UI
            # thread; one at a time, and not at all for a picture the person has already left
            # (Sixel takes ~0.45 s: a held arrow key would otherwise stack up encodings)
            with self._encoding:
                if self.wanted != wanted:
                    return
                self._prepare(wanted, backdrop, image)
        self.app.call_from_thread(self._display, wanted, image)

    def _prepare(self, wanted: Shown, backdrop: tuple[int, ...], image: PILImage.Image) -> None:
        key = (wanted, backdrop)
        if (done := self._prepared.get(key)) is not None:
            image.info.update(done)
            self._prepared.move_to_end(key)
            return
        done = encode_ahead(self.image_class, image, self.pixels_per_cell, backdrop)
        if done is None:  # the widget encodes it itself then
            return
        self._prepared[key] = done
        while len(self._prepared) > PREPARED_KEPT:
            self._prepared.popitem(last=False)

    def _failed(self, wanted: Shown, message: Content) -> None:
        if self.wanted == wanted:
            self._text_state(message)

    def _display(self, wanted: Shown, image: PILImage.Image) -> None:
        if self.wanted != wanted:
            return  # the user moved on while this was decoding
        cols, rows = cells_for(image, self.pixels_per_cell)
        widget = self._mount_image()
        if widget is None:  # previews are off
            return
        widget.styles.width = cols
        widget.styles.height = rows
        widget.image = image  # type: ignore[attr-defined]  # textual-image's widgets have it
        self.shown = wanted
        self._show_parts(image=True, labels=wanted.quadrant is None and self._is_grid())
        self._label_quadrants(cols)

    def _is_grid(self) -> bool:
        return self.shown_task is not None and self.shown_task.is_grid

    def _label_quadrants(self, cols: int) -> None:
        left = cols // 2
        for widget_id, (a, b) in (("#quad-top", ("1", "2")), ("#quad-bottom", ("3", "4"))):
            text = Content.styled(a.center(left) + b.center(cols - left), "bold $accent")
            label = self.query_one(widget_id, Static)
            label.styles.width = cols
            label.update(text)
