"""One request per tick for every in-flight task, none when idle, stale detection."""

from __future__ import annotations

import pytest

from mj_tui.core.models import Status

BATCH_PATH = {"ohmygpt": "/query-mj-tasks", "mjproxy": "/list-by-condition"}


def sent_total(control) -> int:
    return sum(control.get("/_emulator/state").json()["requests"].values())


async def test_no_request_when_nothing_is_in_flight(service, control):
    before = sent_total(control)
    result = await service.poll()
    assert result.requests == 0 and sent_total(control) == before


@pytest.mark.parametrize("in_flight", [1, 3])
async def test_one_request_per_tick(service, control, kind, in_flight):
    control.post("/_emulator/clock", json={"freeze": True})
    for i in range(in_flight):
        await service.imagine(f"tick {i}")
    assert len(service.poller) == in_flight
    before = sent_total(control)
    result = await service.poll()
    assert result.requests == 1 and sent_total(control) - before == 1
    control.post("/_emulator/clock", json={"advance": 3600})
    finished = []
    while len(service.poller):
        finished += (await service.poll()).finished
    assert len(finished) == in_flight and all(t.status == Status.SUCCESS for t in finished)
    before = sent_total(control)
    assert (await service.poll()).requests == 0 and sent_total(control) == before


async def test_progress_rises_and_updates_in_place(tmp_path, kind):
    """A 10 s job on a frozen emulator clock, advanced 2 s per tick."""
    from dataclasses import replace

    import httpx

    from mj_tui.core.config import default_profile
    from mj_tui.core.credentials import Secret
    from mj_tui.core.history import History
    from mj_tui.core.images import ImageCache
    from mj_tui.core.service import MjService
    from mj_tui.emulator import EmulatorConfig, running_emulator

    with running_emulator(EmulatorConfig(job_seconds=10, grid_size=128)) as url:
        clock = httpx.Client(base_url=url)
        clock.post("/_emulator/clock", json={"freeze": True})
        profile = replace(default_profile("t", kind), base_url=url)
        service = MjService(profile, Secret("sk-p"), history=History(tmp_path / "h"), images=ImageCache(tmp_path / "i"))
        try:
            task = await service.imagine("slow sunrise")
            progress, statuses = [], []
            for _ in range(8):
                clock.post("/_emulator/clock", json={"advance": 2})
                for t in (await service.poll()).updated:
                    statuses.append(t.status)
                    progress.append(t.progress)
            assert Status.IN_PROGRESS in statuses and statuses[-1] == Status.SUCCESS
            assert progress == sorted(progress) and 0 < progress[statuses.index(Status.IN_PROGRESS)] < 100
            assert service.get_cached(task.id).status == Status.SUCCESS
        finally:
            clock.close()
            await service.aclose()


async def test_stale_detection(make_service, control, kind):
    service = make_service(kind, stale_after=0.05)
    control.post("/_emulator/clock", json={"freeze": True})
    await service.imagine("frozen job")
    import asyncio

    # on a loaded machine the first poll may already come more than 0.05 s after the submit
    stale = (await service.poll()).stale
    # not a wait for anything: stale_after is wall time (the poller's monotonic clock), so
    # more than 0.05 s of it must pass with no progress; sleeping 0.1 s makes sure it has
    await asyncio.sleep(0.1)
    stale += (await service.poll()).stale
    assert len(stale) == 1
    assert (await service.poll()).stale == []  # reported once, still tracked
    assert len(service.poller) == 1


async def test_more_in_flight_than_a_history_page(make_service, control):
    """OhMyGPT pages hold 20 tasks: 25 in flight still cost one request per tick."""
    from mj_tui.core.models import ProviderKind

    key = "sk-vip-poller"
    control.post("/_emulator/accounts", json={"key": key, "queue_limit": 50})
    service = make_service(ProviderKind.OHMYGPT, key=key)
    control.post("/_emulator/clock", json={"freeze": True})
    for i in range(25):
        await service.imagine(f"vip {i}")
    control.post("/_emulator/clock", json={"advance": 3600})
    finished, ticks = 0, 0
    while len(service.poller) and ticks < 10:
        before = sent_total(control)
        result = await service.poll()
        assert result.requests == 1 and sent_total(control) - before == 1
        finished += len(result.finished)
        ticks += 1
    assert finished == 25 and ticks == 2  # page 1 (20 newest), then page 2
