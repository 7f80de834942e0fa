"""A damaged, foreign, locked or read-only history never stops anything.

Every case damages a real SQLite file the way it happens (a crash mid-write, a disk
error, a stray file, another program holding it) and then uses the store as the app does.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.errors import HistoryNotWritable
from mj_tui.core.history import BROKEN_SUFFIX, History
from mj_tui.core.images import ImageCache
from mj_tui.core.models import Page, ProviderKind, Status, Task
from mj_tui.core.service import MjService

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NS = "ns"


def make(i: int, **kw) -> Task:
    fields = {
        "id": str(i),
        "provider": ProviderKind.MJPROXY,
        "status": Status.SUCCESS,
        "prompt": f"prompt number {i} " + "x" * 200,  # bodies big enough to span many pages
        "submit_time": T0 + timedelta(minutes=i),
    }
    fields.update(kw)
    return Task(**fields)


def filled(path: Path, n: int = 400) -> None:
    history = History(path)
    history.upsert(NS, [make(i) for i in range(n)])
    history.close()  # the last connection checkpoints the WAL into the file


def every_page(history: History, size: int = 25) -> list[Page]:
    first = history.page(NS, 1, size)
    return [first] + [history.page(NS, p, size) for p in range(2, first.pages + 1)]


def broken_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if BROKEN_SUFFIX in p.name and not p.name.endswith(("-wal", "-shm")))


def assert_usable(history: History) -> None:
    """A fresh task can be saved and read back: the app goes on."""
    history.upsert(NS, [make(10_000, prompt="after the damage")])
    assert history.get(NS, "10000").prompt == "after the damage"
    assert history.page(NS, 1, 5).tasks[0].id == "10000"


def test_garbage_file_is_moved_aside_and_a_new_history_starts(tmp_path):
    path = tmp_path / "history.sqlite3"
    garbage = b"this is not a database, just bytes " * 300
    path.write_bytes(garbage)
    history = History(path)
    (notice,) = history.take_notices()
    (moved,) = broken_files(tmp_path)
    assert moved.read_bytes() == garbage  # kept as it was, never deleted
    assert notice.moved_to == moved and str(moved) in notice.message and "new history" in notice.message
    assert history.take_notices() == []  # said once
    assert history.page(NS, 1, 10).tasks == [] and history.memory_only is None
    assert_usable(history)
    history.check_writable()


def test_history_path_that_is_a_folder(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.mkdir()
    (path / "something.txt").write_text("kept")
    history = History(path)
    (moved,) = broken_files(tmp_path)
    assert (moved / "something.txt").read_text() == "kept"
    assert "folder" in history.take_notices()[0].message
    assert_usable(history)


def test_file_truncated_to_half(tmp_path):
    path = tmp_path / "history.sqlite3"
    filled(path)
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    history = History(path)
    pages = every_page(history)  # wherever the damage shows, reading goes on
    history.in_flight(NS)
    notices = history.take_notices()
    assert notices and notices[0].moved_to is not None and notices[0].moved_to.exists()
    assert "moved to" in notices[0].message
    survivors = {t.id for p in every_page(history) for t in p.tasks}
    assert survivors <= {str(i) for i in range(400)}
    assert all(isinstance(p, Page) for p in pages)
    assert_usable(history)


def test_one_damaged_page_keeps_what_can_be_read(tmp_path):
    path = tmp_path / "history.sqlite3"
    filled(path, 600)
    page_size = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    pages = path.stat().st_size // page_size
    with open(path, "r+b") as fh:  # one page in the middle of the table turns to noise
        fh.seek(page_size * (pages // 2))
        fh.write(b"\xa5" * page_size)
    history = History(path)
    every_page(history)
    history.get(NS, "1")
    history.position(NS, "1")
    notices = history.take_notices()
    assert notices and notices[0].moved_to is not None
    kept = history.count(NS)
    assert 300 <= kept < 600, kept  # most of it survives the move to a fresh store
    assert f"{kept} tasks could be read from it" in notices[0].message
    assert_usable(history)


def test_a_bad_row_is_skipped_and_counted(tmp_path):
    path = tmp_path / "history.sqlite3"
    filled(path, 30)
    db = sqlite3.connect(path)
    db.execute("UPDATE tasks SET body='{not json' WHERE id='25'")
    martian = json.loads(db.execute("SELECT body FROM tasks WHERE id='20'").fetchone()[0])
    martian["provider"] = "martian"
    db.execute("UPDATE tasks SET body=? WHERE id='20'", (json.dumps(martian),))
    db.execute("UPDATE tasks SET body='[1, 2]' WHERE id='15'")
    db.commit()
    db.close()
    history = History(path)
    page = history.page(NS, 1, 10)  # ids 29..20
    assert [t.id for t in page.tasks] == ["29", "28", "27", "26", "24", "23", "22", "21"]
    assert page.skipped == 2 and page.total == 30
    assert history.get(NS, "25") is None
    every_page(history)
    assert history.skipped_rows == 3
    (notice,) = history.take_notices()
    assert "could not be read" in notice.message and notice.moved_to is None
    assert not broken_files(tmp_path)  # one bad row is no reason to move the file
    # the server's fresh copy of the task heals its row
    history.upsert(NS, [make(25, prompt="healed")])
    assert history.get(NS, "25").prompt == "healed" and history.page(NS, 1, 10).skipped == 1


def test_a_row_with_an_impossible_id_is_skipped(tmp_path):
    # kept by an older mj-tui, before ids from a server were checked
    path = tmp_path / "history.sqlite3"
    filled(path, 3)
    db = sqlite3.connect(path)
    body = json.loads(db.execute("SELECT body FROM tasks WHERE id='1'").fetchone()[0])
    db.execute("UPDATE tasks SET body=? WHERE id='1'", (json.dumps({**body, "id": "../1\x1b]0;x\x07"}),))
    db.commit()
    db.close()
    history = History(path)
    page = history.page(NS, 1, 10)
    assert [t.id for t in page.tasks] == ["2", "0"] and page.skipped == 1
    assert history.in_flight(NS) == [] and history.get(NS, "1") is None


def test_a_foreign_sqlite_file_is_set_aside(tmp_path):
    path = tmp_path / "history.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE tasks (name TEXT)")
    db.execute("INSERT INTO tasks VALUES ('someone else''s data')")
    db.commit()
    db.close()
    history = History(path)
    assert broken_files(tmp_path) and history.take_notices()
    assert_usable(history)


def test_locked_by_another_program(tmp_path):
    path = tmp_path / "history.sqlite3"
    filled(path, 10)
    history = History(path, busy_timeout=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program in the middle of a long write
    try:
        with pytest.raises(HistoryNotWritable, match="locked by another program"):
            history.upsert(NS, [make(50)])
        with pytest.raises(HistoryNotWritable, match="locked"):
            history.check_writable()
        assert len(history.page(NS, 1, 20).tasks) == 10  # reading goes on meanwhile
    finally:
        other.execute("ROLLBACK")
        other.close()
    history.check_writable()
    assert_usable(history)


def test_held_exclusively_at_start_runs_from_memory(tmp_path):
    path = tmp_path / "history.sqlite3"
    filled(path, 10)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("COMMIT")  # the exclusive lock stays until this connection closes
    try:
        history = History(path, busy_timeout=0.2)
        assert history.memory_only and "locked" in history.memory_only
        (notice,) = history.take_notices()
        assert "cannot be written" in notice.message and "restart" in notice.message
        with pytest.raises(HistoryNotWritable, match="forgotten when mj-tui exits"):
            history.check_writable()
        assert_usable(history)  # the session still works, in memory
    finally:
        other.close()
    assert not broken_files(tmp_path)


def test_full_disk_is_a_clear_error(tmp_path):
    path = tmp_path / "history.sqlite3"
    history = History(path)
    history.upsert(NS, [make(1)])
    # SQLite's own "database or disk is full", without filling a disk: no page may be added
    pages = history._db.execute("PRAGMA page_count").fetchone()[0]
    history._db.execute(f"PRAGMA max_page_count={pages}")
    with pytest.raises(HistoryNotWritable, match="full"):
        history.upsert(NS, [make(i, prompt="y" * 5000) for i in range(2, 60)])
    assert [t.id for t in history.page(NS, 1, 5).tasks] == ["1"]  # nothing half-written


READ_ONLY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from mj_tui.core.errors import HistoryNotWritable
    from mj_tui.core.history import History
    from mj_tui.core.models import ProviderKind, Task
    history = History(sys.argv[1])
    out = {"memory_only": history.memory_only, "notices": [n.message for n in history.take_notices()]}
    out["ids"] = [t.id for t in history.page("ns", 1, 50).tasks]
    try:
        history.check_writable()
        out["writable"] = True
    except HistoryNotWritable as exc:
        out["writable"] = False
        out["why"] = str(exc)
    history.upsert("ns", [Task(id="new", provider=ProviderKind.MJPROXY)])
    out["new"] = history.get("ns", "new") is not None
    print(json.dumps(out))
    """
)


def _without_root_override() -> None:
    """In the child, before exec: drop the capabilities that let root write a read-only
    file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so root meets permission bits too."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "cannot drop root's override")


def run_as_a_user(path: Path) -> dict:
    """READ_ONLY_SCRIPT in a child that meets permission bits (root's override dropped)."""
    try:
        run = subprocess.run(
            [sys.executable, "-c", READ_ONLY_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_without_root_override if os.geteuid() == 0 else None,
        )
    except subprocess.SubprocessError as exc:
        pytest.skip(f"cannot take root's write override away here: {exc}")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_read_only_history_is_read_into_memory(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "history.sqlite3"
    filled(path, 5)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        out = run_as_a_user(path)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert out["memory_only"] == "it is read-only"
    assert sorted(out["ids"]) == ["0", "1", "2", "3", "4"]  # the old tasks are all there
    assert "read-only" in out["notices"][0] and str(path) in out["notices"][0]
    assert out["writable"] is False and "cannot be written" in out["why"]
    assert out["new"] is True  # and the session goes on
    assert not broken_files(folder)  # a read-only store is not a broken one


def test_a_folder_that_cannot_be_entered(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o000)
    try:
        out = run_as_a_user(locked / "data" / "history.sqlite3")
    finally:
        locked.chmod(0o755)
    assert out["memory_only"].startswith("its folder cannot be used")
    assert out["ids"] == [] and out["writable"] is False and out["new"] is True


async def test_the_service_starts_and_submits_on_a_damaged_history(tmp_path, emulator):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"\x00garbage" * 1000)
    profile = replace(default_profile("t", ProviderKind.MJPROXY), base_url=emulator, poll_interval=0.01)
    history = History(path)
    service = MjService(profile, Secret("sk-damaged-history"), history=history, images=ImageCache(tmp_path / "i"))
    try:
        task = await service.imagine("a fox after the crash")
        assert (await service.wait(task.id, timeout=30)).status == Status.SUCCESS
        assert service.history.get(service.namespace, task.id) is not None
    finally:
        await service.aclose()
        history.close()
    assert history.take_notices()[0].moved_to is not None
