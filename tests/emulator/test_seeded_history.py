"""A large seeded history for any key, paged newest first on OhMyGPT (what a sync reads)."""

from __future__ import annotations

import httpx
from emu_helpers import client_for

OMG = "/api/v1/ai/draw/mj"


def test_a_seeded_history_pages_newest_first(emu: str, key: str) -> None:
    added = httpx.post(f"{emu}/_emulator/history", json={"key": key, "count": 1000})
    assert added.status_code == 200 and added.json()["tasks"] == {"ohmygpt": 1000, "mjproxy": 1000}
    with client_for(emu, key) as client:

        def page(n: int) -> dict:
            answer = client.post(
                f"{OMG}/query-mj-tasks", params={"page": n, "pageSize": 20}, data={"model": "midjourney"}
            )
            return answer.json()["data"]

        seen: list[dict] = []
        for n in range(1, 51):
            data = page(n)
            assert data["total"] == 1000 and len(data["tasks"]) == 20
            seen += data["tasks"]
        assert page(51)["tasks"] == []
        times = [t["submitTime"] for t in seen]
        assert times == sorted(times, reverse=True) and len({t["taskId"] for t in seen}) == 1000
        assert all(t["status"] in ("SUCCESS", "FAILURE") for t in seen)
        # more for the same key: still one list, newest first
        httpx.post(f"{emu}/_emulator/history", json={"key": key, "count": 10}).raise_for_status()
        assert page(1)["total"] == 1010
        more = [t["submitTime"] for n in range(1, 52) for t in page(n)["tasks"]]
        assert more == sorted(more, reverse=True)


def test_bad_seed_requests_are_refused(emu: str) -> None:
    for body in ({"count": 5}, {"key": "k", "count": -1}, {"key": "k", "count": "5"}, {"key": "k", "count": 10**9}):
        assert httpx.post(f"{emu}/_emulator/history", json=body).status_code == 400, body
