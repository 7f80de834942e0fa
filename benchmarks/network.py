"""Requests per poll tick (budget 1, and 0 when idle); bytes fetched for a preview."""

from __future__ import annotations

import asyncio

import httpx

from mj_tui.core.models import ProviderKind
from mj_tui.emulator import EmulatorConfig, running_emulator

from .common import Report, service_for, verdict


def _sent(client: httpx.Client) -> int:
    return client.get("/_emulator/state").json()["requests_total"]


async def _ticks(kind: ProviderKind, url: str, control: httpx.Client, in_flight: int) -> tuple[float, int]:
    key = f"sk-bench-{kind.value}-{in_flight}"
    control.post("/_emulator/accounts", json={"key": key, "queue_limit": 1000})
    service = service_for(kind, url, key)
    control.post("/_emulator/clock", json={"freeze": True})
    for i in range(in_flight):
        await service.imagine(f"bench {i}")
    ticks = 10
    before = _sent(control)
    for _ in range(ticks):
        await service.poll()
    per_tick = (_sent(control) - before) / ticks
    control.post("/_emulator/clock", json={"freeze": False, "advance": 3600})
    while len(service.poller):
        await service.poll()
    await service.aclose()
    return per_tick, len(service.poller)


async def _preview_bytes(url: str, control: httpx.Client) -> tuple[int, int, int]:
    service = service_for(ProviderKind.OHMYGPT, url, "sk-bench-preview")
    task = await service.wait((await service.imagine("preview bytes")).id, timeout=60)
    sizes: list[int] = []

    async def count(response: httpx.Response) -> None:
        if "/mj-generated/" in str(response.request.url) or "/attachments/" in str(response.request.url):
            await response.aread()
            sizes.append(len(response.content))

    # instruments the service's HTTP client (a benchmark may look inside; the app never does)
    service.provider.http.client.event_hooks["response"].append(count)
    path = await service.fetch_image(task)
    full = path.stat().st_size
    await asyncio.to_thread(service.preview, task, 640, 400)
    first = sum(sizes)
    await service.fetch_image(task)  # selecting the task again
    second = sum(sizes) - first
    await service.aclose()
    return first, second, full


def run() -> Report:
    report = Report("Network")
    config = EmulatorConfig(job_seconds=0, grid_size=2048, proxy_concurrency=1000, proxy_queue_size=1000)
    with running_emulator(config) as url, httpx.Client(base_url=url) as control:
        for kind in (ProviderKind.OHMYGPT, ProviderKind.MJPROXY):
            idle = service_for(kind, url, f"sk-bench-idle-{kind.value}")
            before = _sent(control)
            for _ in range(10):
                asyncio.run(idle.poll())
            per_idle = (_sent(control) - before) / 10
            report.add(
                f"{kind.value}: requests/tick, 0 in flight", f"{per_idle:.2f}", "budget 0", verdict(per_idle == 0)
            )
            for n in (1, 10, 50):
                per_tick, _ = asyncio.run(_ticks(kind, url, control, n))
                report.add(
                    f"{kind.value}: requests/tick, {n} in flight", f"{per_tick:.2f}", "budget 1", verdict(per_tick <= 1)
                )
        first, second, full = asyncio.run(_preview_bytes(url, control))
        report.add(
            "preview bytes, first view (2048² grid)",
            f"{first:,}",
            f"full image {full:,} B",
            f"ratio {first / full:.2f}",
        )
        report.add("preview bytes, every later view", f"{second:,}", "budget 0 (disk cache)", verdict(second == 0))
    return report


if __name__ == "__main__":
    run().print()
