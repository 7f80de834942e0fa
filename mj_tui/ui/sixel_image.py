"""The Sixel image widget: the picture is encoded off the UI thread, sent once per showing,
and sent again, once, exactly when something drew over it.

Textual draws the widget's cells as plain background; the picture itself goes out after
the frame, from the cursor placed at the widget's top-left corner. A terminal erases the
Sixel pixels of any cell text is written to, so whenever a frame writes any of the
widget's cells (a repaint of the pane, a toast gone, a dialog closed) the picture is
damaged, and it is sent again once the frames have settled (see watch_frames). While
something is over it (a toast, another screen, the palette) nothing is sent: the overlay
stays on top, and its going away repaints the cells, which sends the picture again.
"""

from __future__ import annotations

from PIL import Image as PILImage
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.app import App
from textual.geometry import Region
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from .sixel_encode import encode

_PAYLOAD = "mj_tui.sixel"  # key in the PIL image's .info: ((width, height), sixel text)
SETTLE = 0.04  # s: frames that follow each other closer than this send the picture once


def prepare(image: PILImage.Image, pixel_size: tuple[int, int], background: tuple | None = None, **_) -> dict:
    """Encode `image` for Sixel (call it off the UI thread). The picture arrives fitted to
    its box; it is drawn at its own size, top-left, and is opaque (`background` unused)."""
    if image.info.get(_PAYLOAD, (None,))[0] != image.size:
        image.info[_PAYLOAD] = (image.size, encode(image))
    return {_PAYLOAD: image.info[_PAYLOAD]}


def watched(app: App) -> set:
    pictures = getattr(app, "_mj_sixel_pictures", None)
    if pictures is None:
        pictures = set()
        app._mj_sixel_pictures = pictures  # type: ignore[attr-defined]
    return pictures


def watch_frames(app: App) -> None:
    """Tell the app's Sixel pictures about every frame it writes (once per app).

    The frame (Textual's compositor update) says exactly which cells it writes: a partial
    update lists its spans of each line. Textual renders a widget's lines for more than
    it writes (everything inside the bounding box of what changed), so the rendering
    itself cannot tell a picture it was drawn over."""
    if getattr(app, "_mj_frames_watched", False):
        return
    app._mj_frames_watched = True  # type: ignore[attr-defined]
    display = app._display

    def display_and_tell(screen, renderable) -> None:
        display(screen, renderable)
        for picture in list(watched(app)):
            picture.frame_written(renderable)

    app._display = display_and_tell  # type: ignore[method-assign]


def frame_damage(update: object, region: Region) -> tuple[bool, bool]:
    """Whether a frame wrote any cell of `region`, and whether it wrote a cell on every row."""
    if isinstance(update, ChopsUpdate):
        top, bottom, left, right = region.y, region.bottom, region.x, region.right
        rows = {y for y, x1, x2 in update.spans if top <= y < bottom and x1 < right and x2 > left}
        return bool(rows), len(rows) == region.height
    if isinstance(update, LayoutUpdate):
        hit = update.region.overlaps(region)
        return hit, hit
    return False, False


def frame_hits(update: object, region: Region) -> bool:
    return frame_damage(update, region)[0]


def overlays(widget: Widget, region: Region) -> list[Widget] | None:
    """The widgets drawn over `region` of `widget` on its own screen (toasts, tooltips), or
    None when the picture cannot be drawn at all (another screen is on top, or the region
    is scrolled or clipped: a Sixel picture cannot be cut to what shows)."""
    try:
        screen = widget.screen
        if screen is not widget.app.screen or not screen.is_active:
            return None
        compositor = screen._compositor
        # what is on screen now (Textual's own map, the one it draws from)
        shown = compositor._visible_map if compositor._visible_map is not None else compositor.full_map
        geometry = shown.get(widget)
        if geometry is None or not geometry.clip.contains_region(region):
            return None
        mine = set(widget.ancestors_with_self)
        return [
            other
            for other, place in shown.items()
            if other not in mine
            and place.order > geometry.order
            and other.visible
            and place.region.overlaps(region)
            and widget not in other.ancestors
        ]
    except Exception:  # no screen (unmounting): nothing to draw on
        return None


def occluded(widget: Widget, region: Region) -> bool:
    """Something is drawn over `region` of `widget`, or it is not on the screen shown."""
    return overlays(widget, region) != []


class TerminalPicture(Widget):
    """A picture the terminal draws over cells Textual leaves blank. It is told of every
    frame (see watch_frames), drawn (`_draw`) once the frames that wrote its cells have
    settled, and at once after a full redraw (`redraw_now`)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._settle: Timer | None = None

    def _draw(self) -> None:
        raise NotImplementedError

    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width, self.rich_style)

    # (Textual calls these for each class that defines them: a subclass adds its own)
    def on_mount(self) -> None:
        watch_frames(self.app)
        watched(self.app).add(self)

    def on_unmount(self) -> None:
        watched(self.app).discard(self)

    def redraw_now(self) -> None:
        """The whole screen was just written again: draw now, not after a settling pause
        (see MjApp.action_redraw)."""
        if self._settle is not None:
            self._settle.stop()
        self._draw()

    def _damaged(self) -> None:
        # the lines are written after this frame is composed: draw after it (and any frame
        # that follows at once), not now
        if self._settle is None:
            self._settle = self.set_timer(SETTLE, self._draw)
        else:
            self._settle.reset()


class SixelImage(TerminalPicture):
    """A picture drawn with Sixel; `image` is set already fitted to the widget's cells."""

    DEFAULT_CSS = "SixelImage { width: auto; height: auto; }"
    prepare = staticmethod(prepare)
    wrap = None  # a function wrapping what is sent (tmux passthrough), when set
    origin = (0, 0)  # where the app's screen starts in the terminal that draws (a tmux pane's corner)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._image: PILImage.Image | None = None
        self._sixel: str | None = None
        self.sends = 0  # pictures sent (the benchmarks and tests read it)
        self.held = 0  # sends skipped because something was over the picture
        self._whole_damage = True  # nothing of the picture is on screen

    @property
    def image(self) -> PILImage.Image | None:
        return self._image

    @image.setter
    def image(self, image: PILImage.Image | None) -> None:
        self._image = image
        self._sixel = None
        self._whole_damage = True
        if image is not None:
            prepared = image.info.get(_PAYLOAD)
            # not prepared (a picture set by hand): encoded here, slow but right
            self._sixel = (
                prepared[1] if prepared and prepared[0] == image.size else prepare(image, image.size)[_PAYLOAD][1]
            )
        self.refresh()

    def frame_written(self, update: object) -> None:
        """A frame went out: if it wrote any of the picture's cells, the picture is damaged."""
        if self._sixel is None or not self.display:
            return
        hit, whole = frame_damage(update, self.content_region)
        if hit:
            self._whole_damage = self._whole_damage or whole
            self._damaged()

    def redraw_now(self) -> None:
        self._whole_damage = True  # every cell was written: nothing of the picture is left
        super().redraw_now()

    def _draw(self) -> None:
        self._send()

    def _send(self) -> None:
        self._settle = None
        if self._sixel is None or not self.display or not self.is_mounted:
            return
        region = self.content_region
        over = overlays(self, region) if region.area else None
        # nothing of the picture is left (it is new, or was drawn over whole): it goes out at
        # once even under a toast, which is then drawn again on top of it; a picture damaged
        # only where a toast is waits for the toast to go, and is sent again then
        if over is None or (over and not self._whole_damage):
            self.held += 1
            return
        driver = getattr(self.app, "_driver", None)
        if driver is None:
            return
        self._whole_damage = False
        for widget in over:
            widget.refresh()
        # DECSC / DECRC keep Textual's cursor where it left it
        x, y = region.x + self.origin[0], region.y + self.origin[1]
        text = f"\x1b7\x1b[{y + 1};{x + 1}H{self._sixel}\x1b8"
        if self.wrap is not None:
            text = self.wrap(text)
        getattr(driver, "write_raw", driver.write)(text)
        self.sends += 1
