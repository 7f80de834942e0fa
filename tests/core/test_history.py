from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mj_tui.core.history import History
from mj_tui.core.models import Button, Mode, ProviderKind, Status, Task

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make(i: int, **kw) -> Task:
    defaults = {
        "id": str(i),
        "provider": ProviderKind.MJPROXY,
        "status": Status.SUCCESS,
        "prompt": f"p{i}",
        "submit_time": T0 + timedelta(minutes=i),
    }
    defaults.update(kw)
    return Task(**defaults)


def test_pages_newest_first(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    history.upsert("ns", [make(i) for i in range(25)])
    first = history.page("ns", 1, 10)
    assert [t.id for t in first.tasks] == [str(i) for i in range(24, 14, -1)]
    assert (first.total, first.pages) == (25, 3)
    last = history.page("ns", 3, 10)
    assert [t.id for t in last.tasks] == ["4", "3", "2", "1", "0"]
    assert history.page("ns", 4, 10).tasks == []
    assert history.page("other", 1, 10).total == 0  # namespaces stay apart
    assert history.position("ns", "14") == 10


def test_round_trip_keeps_every_field(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    task = make(
        1,
        buttons=(Button("MJ::JOB::upsample::1::h", "U1"),),
        mode=Mode.RELAX,
        parent_id="0",
        fail_reason=None,
        image_urls=("http://a/1.png",),
        image_url="http://a/1.png",
        raw={"extra": [1, 2]},
        origin_custom_id="MJ::JOB::variation::1::h",
    )
    history.upsert("ns", [task])
    assert history.get("ns", "1") == task
    assert history.get("ns", "1").raw == {"extra": [1, 2]}


def test_merge_keeps_what_the_server_does_not_repeat(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    history.upsert("ns", [make(1, status=Status.SUBMITTED, mode=Mode.TURBO, parent_id="0")])
    (merged,) = history.upsert("ns", [make(1, status=Status.SUCCESS, mode=None, parent_id=None, submit_time=None)])
    assert merged.mode == Mode.TURBO and merged.parent_id == "0" and merged.submit_time is not None
    assert history.page("ns", 1, 5).tasks[0].status == Status.SUCCESS


def test_an_old_answer_never_moves_a_finished_task_back(tmp_path):
    # a history page asked for before the task ended can arrive after the poll that saw it end
    history = History(tmp_path / "h.sqlite3")
    done = make(1, status=Status.SUCCESS, image_url="http://a/1.png", progress=100)
    history.upsert("ns", [done])
    (merged,) = history.upsert("ns", [make(1, status=Status.IN_PROGRESS, progress=40)])
    assert merged == done and history.get("ns", "1") == done
    assert history.in_flight("ns") == []
    # anything still running moves as the server says, finishing included
    history.upsert("ns", [make(2, status=Status.IN_PROGRESS, progress=40)])
    (failed,) = history.upsert("ns", [make(2, status=Status.FAILURE, fail_reason="banned")])
    assert failed.status == Status.FAILURE and history.get("ns", "2").fail_reason == "banned"


def test_in_flight_survives_a_restart(tmp_path):
    path = tmp_path / "h.sqlite3"
    history = History(path)
    history.upsert("ns", [make(1, status=Status.IN_PROGRESS), make(2), make(3, status=Status.MODAL)])
    history.close()
    again = History(path)
    assert [t.id for t in again.in_flight("ns")] == ["1"]


def test_large_history_pages_deep(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    history.upsert("ns", [make(i) for i in range(20_000)])
    page = history.page("ns", 1500, 12)
    assert page.total == 20_000 and page.pages == 1667
    assert [t.id for t in page.tasks] == [str(i) for i in range(20_000 - 17_989, 20_000 - 18_001, -1)]
