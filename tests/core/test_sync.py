"""Sync: the provider's history into the local store, over real HTTP to the emulator."""

from __future__ import annotations

import pytest
from support.hostile import Hostile, list_body, ok, task
from support.keys import fresh_key

from mj_tui.core.errors import MjError
from mj_tui.core.models import ProviderKind, Status
from mj_tui.core.sync import SyncProgress

PAGE_PATH = "query-mj-tasks"


def seed(control, key: str, count: int) -> None:
    answer = control.post("/_emulator/history", json={"key": key, "count": count})
    assert answer.status_code == 200, answer.text


def requests_to(control, needle: str) -> int:
    counts = control.get("/_emulator/state").json()["requests"]
    return sum(n for path, n in counts.items() if needle in path)


async def test_ohmygpt_sync_reads_every_page_once_then_only_the_top(make_service, control):
    key = fresh_key()
    seed(control, key, 205)
    service = make_service(ProviderKind.OHMYGPT, key)
    heard: list[SyncProgress] = []
    result = await service.sync(on_progress=heard.append)
    assert (result.pages_read, result.tasks_stored, result.new, result.total) == (11, 205, 205, 205)
    assert result.complete and result.unfinished == 0
    assert [p.pages_read for p in heard] == list(range(1, 12))
    assert heard[-1].tasks_stored == 205 and all(p.total == 205 for p in heard)
    assert service.history.count(service.namespace) == 205
    # nothing new: the first page holds only stored, finished tasks, and the walk stops there
    again = await service.sync()
    assert (again.pages_read, again.new, again.complete) == (1, 0, True)
    # everything is searchable at once
    assert service.search("status:done").total + service.search("status:failed").total == 205


async def test_a_walk_cut_short_by_a_fault_is_resumed_without_reading_it_again(make_service, control):
    key = fresh_key()
    seed(control, key, 400)  # 20 pages
    service = make_service(ProviderKind.OHMYGPT, key)
    # five pages answer, then a refusal no retry gets past
    faults = [{"kind": "delay", "seconds": 0}] * 5 + [{"kind": "http", "status": 400}]
    control.post("/_emulator/faults", json={"next": faults, "path_contains": PAGE_PATH})
    with pytest.raises(MjError):
        await service.sync()
    assert service.history.count(service.namespace) == 100
    first = service.history.page(service.namespace, 1, 5).tasks[0]
    service.star(first.id)
    service.tag(first.id, "keep")
    before = requests_to(control, PAGE_PATH)
    result = await service.sync()
    # page 1 (known) and then straight to page 6: the 5 pages already read are not read again
    assert requests_to(control, PAGE_PATH) - before == result.pages_read == 16
    assert result.complete and result.new == 300
    assert service.history.count(service.namespace) == 400
    kept = service.get_cached(first.id)
    assert kept is not None and kept.starred and kept.tags == ("keep",)  # stars and tags survive sync
    assert [t.id for t in service.search("is:starred tag:keep").tasks] == [first.id]
    assert (await service.sync()).pages_read == 1


async def test_new_tasks_on_top_of_a_cut_walk_are_read_and_the_rest_resumed(make_service, control):
    key = fresh_key()
    seed(control, key, 200)  # 10 pages
    service = make_service(ProviderKind.OHMYGPT, key)
    cut = await service.sync(max_pages=3)
    assert not cut.complete and cut.pages_read == 3 and service.history.count(service.namespace) == 60
    # two new tasks arrive on top of the list, shifting every page by two
    made = [await service.imagine(f"a new fox {i}") for i in range(2)]
    result = await service.sync()
    assert result.complete and result.new == 140
    assert service.history.count(service.namespace) == 202
    # pages 1 and 2 (the new ones, then known ones), then pages 4 to 11: the cut walk's
    # 60 tasks are now at 2..61, so page 4 holds the first one not read
    assert result.pages_read == 2 + 8
    assert {t.id for t in made} <= {t.id for t in service.search("status:done fox").tasks}


async def test_mjproxy_sync_refreshes_the_unfinished_tasks_in_the_store(make_service, control):
    service = make_service(ProviderKind.MJPROXY)
    made = [await service.imagine(f"a ramen bowl number {i}") for i in range(3)]
    assert all(t.status.in_flight for t in made)
    service.star(made[0].id)
    before = requests_to(control, "list-by-condition")
    heard: list[SyncProgress] = []
    result = await service.sync(on_progress=heard.append)
    assert requests_to(control, "list-by-condition") - before == 1  # one batch, no paid request
    assert (result.pages_read, result.tasks_stored, result.total, result.unfinished) == (1, 3, 3, 0)
    assert heard == [SyncProgress(1, 3, 0, 3)]
    assert all(service.get_cached(t.id).status == Status.SUCCESS for t in made)  # type: ignore[union-attr]
    assert service.get_cached(made[0].id).starred  # type: ignore[union-attr]
    assert service.search("ramen status:done is:starred").total == 1
    # nothing unfinished: nothing asked
    quiet = await service.sync()
    assert quiet.pages_read == 0 and requests_to(control, "list-by-condition") - before == 1


async def test_a_server_that_repeats_one_page_does_not_keep_sync_going(make_service):
    # a hostile server over loopback: every page the same 20 tasks, and a total of a million
    same = [task("ohmygpt", str(500 + i), status="SUCCESS", submitTime=1.7e12 + i) for i in range(20)]
    api = Hostile()
    try:
        api.route("/query-mj-tasks", ok(list_body("ohmygpt", same, total=10**6)))
        service = make_service(ProviderKind.OHMYGPT, base_url=api.origin)
        result = await service.sync()
        assert api.requests_to("/query-mj-tasks") == 2 and result.pages_read == 2
        assert not result.complete and result.new == 20
    finally:
        api.close()
