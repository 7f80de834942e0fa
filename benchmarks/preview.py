"""How long a cached 2048x2048 grid takes to be on screen after its task is selected.

The real app runs headless (Textual's test harness, 120x40) with the kitty-graphics
image widget and a 10x20-pixel cell, so the picture is fitted to a ~600x660 pixel
box, as in a graphics terminal.  Its local history holds grids whose originals are
already in the image cache: photo-like 2048x2048 PNGs of ~9 MB, like Midjourney's
(the emulator's flat art would decode far faster than a real grid).

One figure is the time from the key press (down, in the task list) to the first
frame drawn after the picture reached the image widget (headless, Textual renders
the frame, widget included, and only skips turning it into bytes).  It is taken for four states of the cache:
- original only: a cache written before working copies existed (the first view
  decodes the PNG, and leaves a working copy and a pane-sized preview behind);
- a new session, the grid viewed before at this pane size: its preview is on disk;
- a new session, first view at this size (the terminal was resized): the working copy;
- seen this session: in memory.
The longest single event-loop callback in the same window shows that decoding and
scaling stay off the UI thread.

Then the same with the Sixel widget (its pictures are encoded in the worker thread),
and, for comparison, with textual-image's own Sixel widget, which encodes while the
frame is drawn.
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .common import Report, verdict
from .ui_thread import FRAME_MS, _Busy

BUDGET_MS = 100.0
GRIDS = 6
SIZE = 2048


def photo_like_png(size: int = SIZE) -> bytes:
    """Noise over gradients, lightly blurred: compresses (and decodes) like a photo."""
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((size, size), 60)
    ramp = Image.linear_gradient("L").resize((size, size))
    image = Image.merge(
        "RGB",
        (
            Image.blend(ramp, noise, 0.5),
            Image.blend(ramp.rotate(90), noise, 0.4),
            noise.filter(ImageFilter.GaussianBlur(1)),
        ),
    )
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(0.6)).save(buffer, format="PNG")
    return buffer.getvalue()


def fill(scratch: Path, png: bytes, count: int = GRIDS) -> None:
    """`count` finished grids, newest first in the list, each with its original in the cache."""
    from mj_tui.core.history import History
    from mj_tui.core.images import ImageCache
    from mj_tui.core.models import Button, Mode, ProviderKind, Status, Task
    from mj_tui.launch import DEMO_BASE_URL, build_launch

    launch = build_launch(demo=True, provider="mjproxy", demo_job_seconds=0, demo_seed_history=0)
    history = History(scratch / "data" / "history.sqlite3")
    images = ImageCache(scratch / "cache" / "images")
    images.root.mkdir(parents=True, exist_ok=True)
    buttons = tuple(Button(f"MJ::JOB::upsample::{i}::h", f"U{i}") for i in range(1, 5))
    now = datetime.now(UTC)
    tasks = []
    for i in range(count):
        task = Task(
            id=str(1_800_000_000_000_000 + i),
            provider=ProviderKind.MJPROXY,
            status=Status.SUCCESS,
            progress=100,
            prompt=f"grid {i}, oil on canvas --ar 1:1",
            mode=Mode.FAST,
            submit_time=now - timedelta(seconds=i),
            finish_time=now - timedelta(seconds=i),
            image_url=f"{DEMO_BASE_URL}/never-fetched/{i}.png",
            buttons=buttons,
        )
        task = task.with_(image_urls=(task.image_url,))
        tasks.append(task)
        images.path_for(f"{launch.profile.name}-mjproxy-{task.id}").write_bytes(png)
    history.upsert(f"demo|mjproxy|{DEMO_BASE_URL}", tasks)
    history.close()


def _widget(kind: str) -> type:
    from mj_tui.ui.graphics import _textual_image_widgets

    if kind == "tgp":
        _textual_image_widgets()  # imported as the app does: with its terminal queries off
        from mj_tui.ui.kitty_image import KittyImage

        return KittyImage
    if kind == "sixel":
        from mj_tui.ui.sixel_image import SixelImage

        return SixelImage
    return _textual_image_widgets().SixelImage  # textual-image's own: encodes while drawing


async def _session(keys: list[str], kind: str = "tgp") -> dict[str, list[tuple[float, float]]]:
    """Select each grid in turn with `down`, then go back `up`; (ms to on screen, longest callback ms)."""
    from mj_tui.launch import build_launch
    from mj_tui.ui.app import MjApp
    from mj_tui.ui.graphics import Graphics
    from mj_tui.ui.screens.main import MainScreen

    graphics = Graphics("sixel" if "sixel" in kind else kind, _widget(kind), (10, 20))
    launch = build_launch(demo=True, provider="mjproxy", demo_job_seconds=0, demo_seed_history=0)
    app = MjApp(launch, graphics=graphics, blink_cursor=False, animations=False)
    frames: list[float] = []  # when the app handed a frame to the terminal driver
    handed: dict[str, float] = {}  # image key -> when the preview gave it to the image widget

    async with app.run_test(size=(120, 40)) as pilot:
        # headless, Textual renders every frame but skips turning it into bytes
        display = app._display

        def display_frame(screen, renderable) -> None:
            if renderable is not None:
                frames.append(time.perf_counter())
            return display(screen, renderable)

        setattr(app, "_display", display_frame)  # noqa: B010 (instruments the app)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        give = screen.preview._display

        def give_picture(wanted, image) -> None:
            give(wanted, image)
            if screen.preview.shown == wanted:
                handed[wanted.key] = time.perf_counter()

        setattr(screen.preview, "_display", give_picture)  # noqa: B010 (instruments the preview)
        for _ in range(200):  # until the service is connected and the first grid is shown
            if screen.service is not None and screen.preview.shown is not None:
                break
            await pilot.pause(0.05)
        await pilot.press("escape")  # from the prompt box to the task list
        await pilot.pause(0.3)

        async def select(key: str, expect: str) -> tuple[float, float]:
            await pilot.pause(0.2)  # settle: timers, the previous picture
            frames.clear()
            handed.clear()
            _Busy.total = _Busy.longest = 0.0
            start = time.perf_counter()
            await pilot.press(key)
            deadline = start + 10
            while time.perf_counter() < deadline:
                if expect in handed:
                    after = [when for when in frames if when >= handed[expect]]
                    if after:  # the first frame drawn with the picture in it
                        return (after[0] - start) * 1000, _Busy.longest * 1000
                await asyncio.sleep(0.001)
            raise TimeoutError(f"grid {expect} never reached the screen")

        forward = [await select("down", key) for key in keys[1:]]
        back = [await select("up", key) for key in reversed(keys[:-1])]
    return {"forward": forward, "back": back}


class _Sink:
    """Counts the pictures the app writes to the (headless) terminal: the kitty widget
    sends them through the driver, as Textual's frames go."""

    def __init__(self) -> None:
        self.images = 0

    def write(self, text: str) -> None:
        self.images += text.count(",m=0,")  # the last chunk of one picture


def run() -> Report:
    from mj_tui.launch import build_launch

    _Busy.install()
    report = Report(
        f"Preview: a cached {SIZE}² grid on screen after selecting its task (headless, 120x40, "
        "kitty widget unless named, 10x20 px cells)"
    )
    png = photo_like_png()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        os.environ["MJ_TUI_DEMO_DIR"] = str(scratch)
        fill(scratch, png)
        name = build_launch(demo=True, provider="mjproxy", demo_job_seconds=0, demo_seed_history=0).profile.name
        keys = [f"{name}-mjproxy-{1_800_000_000_000_000 + i}" for i in range(GRIDS)]
        images = scratch / "cache" / "images"

        from textual.drivers.headless_driver import HeadlessDriver

        sink, drop = _Sink(), HeadlessDriver.write
        setattr(HeadlessDriver, "write", lambda driver, text: sink.write(text))  # noqa: B010 (this process only)
        try:
            cold = asyncio.run(_session(keys))["forward"]  # original only: decodes, leaves working copies
            seen = asyncio.run(_session(keys))  # a new session: the previews from the first are on disk
            for preview in images.glob("*.png"):  # a new terminal size: no preview of this size yet,
                preview.unlink()  # only the original and its working copy
            resized = asyncio.run(_session(keys))["forward"]
            sixel = asyncio.run(_session(keys, "sixel"))  # previews on disk, as in `seen`
            library = asyncio.run(_session(keys, "sixel-library"))["forward"]
        finally:
            setattr(HeadlessDriver, "write", drop)  # noqa: B010

    report.add("original in the image cache", f"{len(png) / 1e6:.1f} MB PNG")
    rows = (
        ("original only (older cache), first view", cold, False),
        ("new session, viewed before at this size", seen["forward"], True),
        ("new session, first view at this size (working copy)", resized, True),
        ("seen this session (memory)", seen["back"], True),
    )
    for label, samples, judged in rows:
        ms = [m for m, _ in samples]
        longest = max(step for _, step in samples)
        median = statistics.median(ms)
        report.add(
            f"{label}: median/worst",
            f"{median:.0f}/{max(ms):.0f} ms",
            f"budget {BUDGET_MS:.0f} ms" if judged else "once per image, ever",
            verdict(max(ms) <= BUDGET_MS) if judged else "",
        )
        report.add(
            f"{label}: longest UI callback",
            f"{longest:.1f} ms",
            f"frame {FRAME_MS:.0f} ms",
            verdict(longest <= FRAME_MS),
        )
    # Sixel: encoded from the picture, ~0.45 s per picture without numpy (not a dependency:
    # it would slow every start); the worker thread does it, so keys are never held up
    sixel_rows: tuple[tuple[str, list[tuple[float, float]], bool | None], ...] = (
        ("Sixel, viewed before at this size", sixel["forward"], False),
        ("Sixel, seen this session (memory)", sixel["back"], True),
        ("Sixel, drawn by textual-image itself (as before)", library, None),
    )
    for label, samples, sixel_judged in sixel_rows:
        ms = [m for m, _ in samples]
        longest = max(step for _, step in samples)
        report.add(
            f"{label}: median/worst",
            f"{statistics.median(ms):.0f}/{max(ms):.0f} ms",
            f"budget {BUDGET_MS:.0f} ms" if sixel_judged else "encoding included",
            verdict(max(ms) <= BUDGET_MS) if sixel_judged else "",
        )
        report.add(
            f"{label}: longest UI callback",
            f"{longest:.1f} ms",
            f"frame {FRAME_MS:.0f} ms",
            "" if sixel_judged is None else verdict(longest <= FRAME_MS),
        )
    shown = 3 * (1 + 2 * (GRIDS - 1))  # three sessions: the first grid, then each way along the list
    report.add(
        "pictures sent to the terminal (kitty)",
        f"{sink.images}",
        f"{shown} pictures shown",
        verdict(sink.images <= shown),
    )
    return report


if __name__ == "__main__":
    run().print()
