"""UI-thread time to page and to move the selection, with 10,000 and 100,000 tasks.

The real app runs headless (Textual's test harness) on a proxy-dialect profile whose
local history holds N tasks; the in-process emulator answers the network side.  Every
callback the event loop runs is timed (asyncio's Handle._run is wrapped, in this
process only), so a figure is the loop's *busy* time from a key press until the app is
idle again — handlers, layout and render — not the harness's waiting.  The floor is
the same measurement for the down key in a bare Textual app with one OptionList page.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import OptionList

from .common import Report, verdict
from .terminal import prefill

FRAME_MS = 16.0
PRESSES = 20


class FloorApp(App):
    def compose(self) -> ComposeResult:
        yield OptionList(*[f"task {i}" for i in range(12)])


class _Busy:
    """Sums the time the event loop spends inside callbacks."""

    total = 0.0
    longest = 0.0

    @classmethod
    def install(cls) -> None:
        original = asyncio.events.Handle._run
        if getattr(original, "_mj_bench", False):
            return

        def timed_run(handle):
            start = time.perf_counter()
            try:
                return original(handle)
            finally:
                spent = time.perf_counter() - start
                cls.total += spent
                cls.longest = max(cls.longest, spent)

        setattr(timed_run, "_mj_bench", True)  # noqa: B010 (a mark on a function)
        setattr(asyncio.events.Handle, "_run", timed_run)  # noqa: B010 (instruments the event loop)


async def _timed(pilot, key: str, n: int) -> list[tuple[float, float]]:
    """(busy ms, longest single callback ms) per key press."""
    samples = []
    for _ in range(n):
        await pilot.pause(0.05)  # let timers and workers settle first
        _Busy.total = _Busy.longest = 0.0
        await pilot.press(key)
        await pilot.pause()
        samples.append((_Busy.total * 1000, _Busy.longest * 1000))
    return samples


async def _floor() -> list[tuple[float, float]]:
    app = FloorApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one(OptionList).focus()
        await pilot.pause()
        return await _timed(pilot, "down", PRESSES) + await _timed(pilot, "up", PRESSES)


async def _app(scratch: Path) -> dict[str, list[tuple[float, float]]]:
    import os

    from mj_tui.launch import build_launch
    from mj_tui.ui.app import MjApp
    from mj_tui.ui.graphics import load_graphics

    os.environ["MJ_TUI_DEMO_DIR"] = str(scratch)
    launch = build_launch(demo=True, provider="mjproxy", demo_job_seconds=0, demo_seed_history=0)
    app = MjApp(launch, graphics=load_graphics("halfcell"), blink_cursor=False, animations=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):  # until the service is connected
            if getattr(app.screen, "service", None) is not None:
                break
            await pilot.pause(0.05)
        await pilot.press("tab")  # the task list
        await pilot.pause(0.3)
        return {
            "page forward": await _timed(pilot, "right_square_bracket", PRESSES),
            "page back": await _timed(pilot, "left_square_bracket", PRESSES),
            "selection": await _timed(pilot, "down", PRESSES) + await _timed(pilot, "up", PRESSES),
        }


def run() -> Report:
    _Busy.install()
    report = Report("UI thread: event-loop busy time per key press (headless, 120x40)")
    floor = asyncio.run(_floor())
    floor_ms = statistics.median(busy for busy, _ in floor)
    report.add("floor: OptionList selection, median busy", f"{floor_ms:.1f} ms")
    for count in (10_000, 100_000):
        with tempfile.TemporaryDirectory() as tmp:
            prefill(Path(tmp), count)
            results = asyncio.run(_app(Path(tmp)))
        for name, samples in results.items():
            longest = max(step for _, step in samples)
            median = statistics.median(busy for busy, _ in samples)
            worst = max(busy for busy, _ in samples)
            report.add(
                f"{count:,} tasks: {name}, longest callback",
                f"{longest:.1f} ms",
                f"frame {FRAME_MS:.0f} ms",
                verdict(longest <= FRAME_MS),
            )
            report.add(
                f"{count:,} tasks: {name}, busy median/worst",
                f"{median:.1f}/{worst:.1f} ms",
                f"ratio {median / floor_ms:.2f} to floor",
            )
    return report


if __name__ == "__main__":
    run().print()
