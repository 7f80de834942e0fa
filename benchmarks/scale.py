"""History size: paging cost and memory must not grow with the number of tasks."""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mj_tui.core.history import History
from mj_tui.core.models import Button, ProviderKind, Status, Task

from .common import Report, verdict

FRAME_MS = 16.0
GRID_BUTTONS = tuple(Button(f"MJ::JOB::upsample::{i}::h", f"U{i}") for i in range(1, 5))


def fill(history: History, namespace: str, count: int) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    batch = []
    for i in range(count):
        batch.append(
            Task(
                id=str(1_000_000 + i),
                provider=ProviderKind.MJPROXY,
                status=Status.SUCCESS,
                progress=100,
                prompt=f"benchmark prompt number {i} --ar 3:2 --v 7",
                submit_time=t0 + timedelta(seconds=i),
                buttons=GRID_BUTTONS,
                image_url=f"http://x/{i}.png",
                image_urls=(f"http://x/{i}.png",),
            )
        )
        if len(batch) == 5000:
            history.upsert(namespace, batch)
            batch = []
    history.upsert(namespace, batch)


def measure(history: History, namespace: str, pages: int) -> tuple[float, float, int]:
    """Worst and median ms to read one 12-task page, across first, middle and last pages."""
    samples = []
    tracemalloc.start()
    for page in [1, 2, pages // 2, pages // 2 + 1, pages - 1, pages] * 5:
        start = time.perf_counter()
        history.page(namespace, page, 12)
        samples.append((time.perf_counter() - start) * 1000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    samples.sort()
    return samples[-1], samples[len(samples) // 2], peak


def run() -> Report:
    report = Report("Scale (history store, one 12-task page per read)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (10_000, 100_000):
            history = History(Path(tmp) / f"h{count}.sqlite3")
            fill(history, "ns", count)
            worst, median, peak = measure(history, "ns", count // 12)
            results[count] = peak
            report.add(
                f"{count:,} tasks: page read worst",
                f"{worst:.2f} ms",
                f"frame {FRAME_MS:.0f} ms",
                verdict(worst < FRAME_MS),
            )
            report.add(f"{count:,} tasks: page read median", f"{median:.2f} ms")
            report.add(f"{count:,} tasks: peak Python memory while paging", f"{peak / 1024:.0f} KiB")
            history.close()
    ratio = results[100_000] / results[10_000]
    report.add("memory 100k / 10k", f"{ratio:.2f}x", "budget: flat (≈1x)", verdict(ratio < 1.5))
    return report


if __name__ == "__main__":
    run().print()
