"""The library on screen: a search from key press to the result list drawn, at 100,000
tasks; a gallery page of cached thumbnails from key press to every picture drawn.

The real app runs headless (Textual's test harness, 120x40, the demo on midjourney-proxy
whose list is the local store). Figures are from the key press to the first frame drawn
after the list (or the last tile) got what it shows; the longest single event-loop
callback in the same window shows the UI thread never waits on the store or on Pillow.

Search: "/" then a query typed a key at a time (each key runs a search: one at a time,
keys typed meanwhile coalesce). Floor, same run: the same key presses moving the
selection down the plain list (a redraw with no store read).

Gallery: GRIDS finished grids whose originals are in the image cache. A first session
makes the tile-sized thumbnails (and leaves them on disk); the measured session opens the
gallery (i), pages forward (]) and back ([), and opens it again after esc (the screen is
kept between openings), with the kitty widget and 10x20-pixel cells. Pictures sent to the
terminal are counted against the tiles shown.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from .common import Report, verdict
from .preview import _Sink  # counts the pictures the kitty widget writes
from .ui_thread import FRAME_MS, _Busy

SEARCH_TASKS = 100_000
SEARCH_BUDGET_MS = 50.0
GALLERY_BUDGET_MS = 150.0
GRIDS = 40
GRID_PIXELS = 1024  # (a 2048² original only makes the first, unmeasured session longer)
TYPED = ("fox", " v:7", " -snow")


def _namespace() -> str:
    from mj_tui.launch import DEMO_BASE_URL

    return f"demo|mjproxy|{DEMO_BASE_URL}"


def _launch():
    from mj_tui.launch import build_launch

    return build_launch(demo=True, provider="mjproxy", demo_job_seconds=0, demo_seed_history=0)


def _fill_history(scratch: Path, count: int) -> None:
    from mj_tui.core.history import History

    from .library import fill

    history = History(scratch / "data" / "history.sqlite3")
    fill(history, _namespace(), count)
    history.close()


class _Frames:
    """The first frame handed to the (headless) terminal driver once a condition holds."""

    def __init__(self, app) -> None:
        self.wanted = None
        self.hit: float | None = None
        display = app._display

        def display_frame(screen, renderable) -> None:
            if renderable is not None and self.hit is None and self.wanted is not None and self.wanted():
                self.hit = time.perf_counter()
            return display(screen, renderable)

        setattr(app, "_display", display_frame)  # noqa: B010 (instruments the app)

    def arm(self, wanted) -> None:
        self.wanted, self.hit = wanted, None


async def _until(predicate, seconds: float = 20.0) -> None:
    deadline = time.perf_counter() + seconds
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app never got there")
        await asyncio.sleep(0.001)


async def _drawn_after(frames: _Frames, start: float) -> float:
    """ms from `start` to the first frame drawn with what `frames` was armed for."""
    await _until(lambda: frames.hit is not None)
    assert frames.hit is not None
    return (frames.hit - start) * 1000


async def _search_session() -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(ms to drawn, longest callback ms) per typed key, then per floor key."""
    from mj_tui.ui.app import MjApp
    from mj_tui.ui.graphics import load_graphics
    from mj_tui.ui.screens.main import MainScreen

    app = MjApp(_launch(), graphics=load_graphics("halfcell"), blink_cursor=False, animations=False)
    typed: list[tuple[float, float]] = []
    floor: list[tuple[float, float]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        frames = _Frames(app)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await _until(lambda: screen.service is not None and screen.tasks.current is not None)
        await pilot.press("escape")
        await pilot.pause(0.3)
        # the floor: down the plain list, a redraw per key and no store read
        for _ in range(12):
            await pilot.pause(0.05)
            before = screen.tasks.highlighted
            frames.arm(lambda b=before: screen.tasks.highlighted != b)
            _Busy.total = _Busy.longest = 0.0
            start = time.perf_counter()
            await pilot.press("down")
            ms = await _drawn_after(frames, start)
            floor.append((ms, _Busy.longest * 1000))
        await pilot.press("slash")
        query = ""
        for chunk in TYPED:
            for key in chunk:
                query += key
                await pilot.pause(0.05)
                measured = bool(query.strip()) and not query.endswith((" ", "-", ":"))
                # (a space or a term half typed: the same results, or a problem shown)
                frames.arm((lambda w=query: screen.session.query == w) if measured else None)
                _Busy.total = _Busy.longest = 0.0
                start = time.perf_counter()
                await pilot.press("space" if key == " " else key)
                if not measured:
                    continue
                ms = await _drawn_after(frames, start)
                typed.append((ms, _Busy.longest * 1000))
    return typed, floor


async def _gallery_session(pictures: bool = True) -> dict[str, tuple[float, float, int]]:
    """Per step (open, next page, back, open again): (ms to every tile drawn, longest callback ms, tiles).
    Without `pictures` (graphics off, the floor): the same tiles with their captions only."""
    from mj_tui.ui.app import MjApp
    from mj_tui.ui.graphics import Graphics, load_graphics
    from mj_tui.ui.kitty_image import KittyImage
    from mj_tui.ui.screens.gallery import GalleryScreen
    from mj_tui.ui.screens.main import MainScreen

    load_graphics("halfcell")
    graphics = Graphics("tgp", KittyImage, (10, 20)) if pictures else Graphics("none", None, (10, 20))
    app = MjApp(_launch(), graphics=graphics, blink_cursor=False, animations=False)
    out: dict[str, tuple[float, float, int]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        frames = _Frames(app)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await _until(lambda: screen.service is not None and screen.tasks.current is not None)
        await pilot.press("escape")
        await pilot.pause(0.3)

        def all_drawn(page: int) -> bool:
            gallery = app.screen
            if not isinstance(gallery, GalleryScreen) or gallery.page is None or gallery.page.page != page:
                return False
            wanted = [t for t in gallery.tiles if t.wants_picture]
            if not pictures:
                return bool(wanted) and not gallery._loading
            return bool(wanted) and all(t.picture_key is not None for t in wanted)

        for name, key, page in (
            ("open", "i", 1),
            ("next page", "right_square_bracket", 2),
            ("back", "left_square_bracket", 1),
            ("open again", "i", 1),
        ):
            if name == "open again":  # back to the list first: the gallery is kept between openings
                await pilot.press("escape")
                await _until(lambda: isinstance(app.screen, MainScreen))
            await pilot.pause(0.2)
            frames.arm(lambda p=page: all_drawn(p))
            _Busy.total = _Busy.longest = 0.0
            start = time.perf_counter()
            await pilot.press(key)
            ms = await _drawn_after(frames, start)
            gallery = app.screen
            assert isinstance(gallery, GalleryScreen)
            out[name] = (ms, _Busy.longest * 1000, sum(1 for t in gallery.tiles if t.wants_picture))
    return out


def run() -> Report:
    _Busy.install()
    report = Report(
        f"Library on screen: search at {SEARCH_TASKS:,} tasks, a gallery of {GRIDS} cached grids "
        "(headless, 120x40, midjourney-proxy demo)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        os.environ["MJ_TUI_DEMO_DIR"] = str(scratch)
        _fill_history(scratch, SEARCH_TASKS)
        typed, floor = asyncio.run(_search_session())
    ms = [m for m, _ in typed]
    floor_ms = statistics.median(m for m, _ in floor)
    median = statistics.median(ms)
    report.add(
        "search: key press to results drawn, median/worst",
        f"{median:.0f}/{max(ms):.0f} ms",
        f"budget {SEARCH_BUDGET_MS:.0f} ms; {median / floor_ms:.1f}x the floor",
        verdict(median <= SEARCH_BUDGET_MS),
    )
    report.add("floor: key press to a list move drawn, median", f"{floor_ms:.0f} ms")
    longest = max(step for _, step in typed)
    report.add(
        "search: longest UI callback", f"{longest:.1f} ms", f"frame {FRAME_MS:.0f} ms", verdict(longest <= FRAME_MS)
    )

    from textual.drivers.headless_driver import HeadlessDriver

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        os.environ["MJ_TUI_DEMO_DIR"] = str(scratch)
        from .preview import fill, photo_like_png  # (a photo-like original decodes as a real grid does)

        fill(scratch, photo_like_png(GRID_PIXELS), GRIDS)  # the preview benchmark's grids, GRIDS of them
        sink, drop = _Sink(), HeadlessDriver.write
        setattr(HeadlessDriver, "write", lambda driver, text: sink.write(text))  # noqa: B010 (this process only)
        try:
            asyncio.run(_gallery_session())  # makes the tile-sized thumbnails, on disk
            sink.images = 0
            steps = asyncio.run(_gallery_session())
            floors = asyncio.run(_gallery_session(pictures=False))
        finally:
            setattr(HeadlessDriver, "write", drop)  # noqa: B010
    for name, (step_ms, step_longest, tiles) in steps.items():
        floor_ms, floor_longest, _ = floors[name]
        report.add(
            f"gallery {name}: {tiles} thumbnails drawn",
            f"{step_ms:.0f} ms",
            f"budget {GALLERY_BUDGET_MS:.0f} ms; {step_ms / floor_ms:.1f}x the floor",
            verdict(step_ms <= GALLERY_BUDGET_MS),
        )
        report.add("  floor: the same tiles, captions only (no pictures)", f"{floor_ms:.0f} ms")
        report.add(
            f"gallery {name}: longest UI callback",
            f"{step_longest:.1f} ms",
            f"frame {FRAME_MS:.0f} ms; floor {floor_longest:.0f} ms",
            verdict(step_longest <= FRAME_MS),
        )
    shown = sum(tiles for _, _, tiles in steps.values()) + 1  # (+ the preview's picture behind)
    report.add(
        "gallery: pictures sent to the terminal", f"{sink.images}", f"{shown} shown", verdict(sink.images <= shown)
    )
    return report
