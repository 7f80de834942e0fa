"""The library: search at 100,000 tasks, and a sync of 10,000 from the emulator.

Search: the median of typical queries (words, a phrase, a prefix, terms, negation, a time
range) on a 20-task page, against a floor measured in the same run: reading the plain
list's first page from the same store. Python memory while searching must not grow with
the history (10k vs 100k).

Sync: OhMyGPT's query-mj-tasks walked page by page, one request in flight, into a fresh
store, against a floor measured in the same run: the same pages fetched and parsed as JSON
by a bare HTTP client that stores nothing.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from mj_tui.core.history import History
from mj_tui.core.models import Mode, ProviderKind, Status, Task
from mj_tui.emulator import EmulatorConfig, running_emulator

from .common import Report, service_for, verdict

SEARCH_BUDGET_MS = 10.0
SYNC_FLOOR_TASKS_PER_S = 500.0
SYNC_TASKS = 10_000

SUBJECTS = (
    "a lighthouse on a cliff",
    "a red fox in the snow",
    "an old tram in Lisbon",
    "a koi pond",
    "a paper crane",
    "a desert city at dusk",
    "a glass greenhouse",
    "a sleeping cat",
    "a bowl of ramen",
    "a whale in the clouds",
)
STYLES = ("watercolor", "oil painting", "35mm film photo", "ukiyo-e print", "low poly render", "pastel gouache")
PARAMS = ("", "", " --ar 3:2", " --ar 16:9", " --v 7", " --niji 6", " --ar 4:5 --v 6.1", " --sref 42 --p")
QUERIES = (
    "ramen",
    "fox watercolor",
    '"bowl of ramen"',
    "lighth",
    "status:failed",
    "status:done ar:16:9",
    "v:7 -fox",
    "has:sref mode:relax",
    "since:30d cat",
    "is:starred",
    "tag:keep",
    "-ramen",
)


def fill(history: History, namespace: str, count: int) -> None:
    rng = random.Random(7)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    batch: list[Task] = []
    for i in range(count):
        prompt = f"{rng.choice(SUBJECTS)}, {rng.choice(STYLES)}{rng.choice(PARAMS)}"
        batch.append(
            Task(
                id=str(1_000_000 + i),
                provider=ProviderKind.OHMYGPT,
                status=Status.FAILURE if rng.random() < 0.03 else Status.SUCCESS,
                progress=100,
                prompt=prompt,
                final_prompt=prompt,
                mode=rng.choice((Mode.FAST, Mode.RELAX)),
                submit_time=t0 - timedelta(seconds=(count - i) * 300),
            )
        )
        if len(batch) == 5000:
            history.upsert(namespace, batch)
            batch = []
    history.upsert(namespace, batch)
    for n in range(0, count, 997):  # a few stars and tags, as a person leaves them
        history.set_starred(namespace, str(1_000_000 + n))
        history.add_tag(namespace, str(1_000_000 + n), "keep")


def _median_ms(fn: object, rounds: int) -> float:
    assert callable(fn)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure_search(history: History, namespace: str) -> tuple[dict[str, float], float, int]:
    """Median ms per query, the floor (the plain list's first page), peak Python memory."""
    now = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    floor = _median_ms(lambda: history.page(namespace, 1, 20), 30)
    medians = {q: _median_ms(lambda q=q: history.search(namespace, q, 1, 20, now=now), 15) for q in QUERIES}
    tracemalloc.start()  # a pass of its own: tracing slows Python down several times
    for query in QUERIES:
        for page in (1, 2, 50):
            history.search(namespace, query, page, 20, now=now)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return medians, floor, peak


async def _bare_walk(url: str, key: str, pages: int) -> float:
    """Tasks per second of the pages alone: fetched and parsed, nothing stored."""
    got = 0
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        start = time.perf_counter()
        for page in range(1, pages + 1):
            answer = await client.post(
                "/api/v1/ai/draw/mj/query-mj-tasks", params={"page": page, "pageSize": 20}, data={"model": "midjourney"}
            )
            got += len(answer.json()["data"]["tasks"])
        return got / (time.perf_counter() - start)


async def measure_sync(url: str, key: str, scratch: Path) -> tuple[float, float, int, int]:
    """Sync's tasks per second, the floor's, requests made, tasks stored."""
    pages = -(-SYNC_TASKS // 20)
    floor = await _bare_walk(url, key, pages)
    service = service_for(ProviderKind.OHMYGPT, url, key, scratch)
    try:
        start = time.perf_counter()
        result = await service.sync()
        rate = result.tasks_stored / (time.perf_counter() - start)
        return rate, floor, result.pages_read, service.history.count(service.namespace)
    finally:
        await service.aclose()
        service.history.close()


def run() -> Report:
    report = Report("Library (search at scale; sync from the emulator)")
    peaks: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (10_000, 100_000):
            history = History(Path(tmp) / f"h{count}.sqlite3")
            fill(history, "ns", count)
            medians, floor, peak = measure_search(history, "ns")
            peaks[count] = peak
            history.close()
            if count != 100_000:
                continue
            overall = statistics.median(medians.values())
            worst_query, worst = max(medians.items(), key=lambda kv: kv[1])
            report.add(
                f"{count:,} tasks: search median",
                f"{overall:.2f} ms",
                f"budget {SEARCH_BUDGET_MS:.0f} ms; floor {floor:.2f} ms",
                verdict(overall <= SEARCH_BUDGET_MS),
            )
            report.add("  ratio to the floor (plain page)", f"{overall / floor:.1f}x")
            report.add(f"  slowest: {worst_query}", f"{worst:.2f} ms")
            for query, ms in medians.items():
                report.add(f"  {query}", f"{ms:.2f} ms")
        ratio = peaks[100_000] / max(1, peaks[10_000])
        report.add("search memory 100k / 10k", f"{ratio:.2f}x", "budget: flat (≈1x)", verdict(ratio < 1.5))
        report.add("  peak Python memory at 100k", f"{peaks[100_000] / 1024:.0f} KiB")

        config = EmulatorConfig(job_seconds=0, grid_size=256)
        with running_emulator(config) as url, httpx.Client(base_url=url) as control:
            key = "sk-bench-library"
            control.post("/_emulator/history", json={"key": key, "count": SYNC_TASKS}).raise_for_status()
            rate, floor_rate, requests, stored = asyncio.run(measure_sync(url, key, Path(tmp)))
            report.add(
                f"sync {SYNC_TASKS:,} tasks (OhMyGPT)",
                f"{rate:.0f} tasks/s",
                f"budget ≥{SYNC_FLOOR_TASKS_PER_S:.0f}/s; floor {floor_rate:.0f}/s",
                verdict(rate >= SYNC_FLOOR_TASKS_PER_S and stored == SYNC_TASKS),
            )
            report.add("  ratio to the floor (bare fetch)", f"{rate / floor_rate:.2f}x")
            report.add("  requests (one in flight)", f"{requests}", f"{stored:,} tasks stored")
    return report


if __name__ == "__main__":
    run().print()
