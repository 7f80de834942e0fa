"""A local SQLite store of every task seen, paged newest first.

midjourney-proxy has no paged history for an API key, so this store *is*
the history there; for OhMyGPT it caches server pages so the first frame
can be drawn before the network answers.

A damaged store never stops the app. A file that is not a database, is damaged, is a
folder or belongs to something else is moved aside (never deleted) as
``history.sqlite3.broken-<time>``, what can still be read from it is copied into a fresh
one, and a notice says where the old file is (:meth:`History.take_notices`). A row that
cannot be read is skipped and counted. A store that cannot be written (read-only, on a
full disk, locked by another program) is read into memory for the session instead, and
:meth:`History.check_writable` says so before a paid submit.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from .config import Profile
from .errors import HistoryNotWritable
from .models import Action, Button, Mode, Page, ProviderKind, Status, Task, is_task_id

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    profile  TEXT NOT NULL,
    id       TEXT NOT NULL,
    sort_key REAL NOT NULL,
    status   TEXT NOT NULL,
    updated  REAL NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (profile, id)
);
CREATE INDEX IF NOT EXISTS tasks_order ON tasks (profile, sort_key DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (profile, status);
CREATE TABLE IF NOT EXISTS meta (
    profile TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (profile, key)
);
"""
# the columns this code reads and writes: a foreign SQLite file at our path fails these
_SHAPE = (
    "SELECT profile, id, sort_key, status, updated, body FROM tasks LIMIT 1",
    "SELECT profile, key, value FROM meta LIMIT 1",
)
BROKEN_SUFFIX = ".broken-"
#: below this much free space a save is refused up front (SQLite needs room for its journal)
MIN_FREE_BYTES = 1024 * 1024
#: how long a write waits for another program (another mj-tui) holding the store
BUSY_TIMEOUT = 5.0
# SQLite's primary result codes (the low byte of an extended code)
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 3, 5, 6, 8, 10, 11, 13, 14, 26


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


@dataclass(frozen=True)
class HistoryNotice:
    """Something about the history a person should know (shown once by the CLI or TUI)."""

    message: str
    #: where a damaged file was moved, when it was
    moved_to: Path | None = None

    def __str__(self) -> str:
        return self.message


def _problem(exc: sqlite3.Error) -> str:
    """What kind of failure an SQLite error is: corrupt, locked, readonly, full or other."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return "corrupt"
    if "no such column" in text or "no such table" in text or "has no column" in text:
        return "corrupt"  # not our store (or not any more): handled like a damaged one
    if primary in (_BUSY, _LOCKED) or "locked" in text:
        return "locked"
    if primary in (_READONLY, _PERM) or "readonly" in text:
        return "readonly"
    if primary == _FULL or "full" in text:
        return "full"
    return "other"


def namespace_for(profile: Profile) -> str:
    """Tasks of another profile, dialect or base URL (e.g. the emulator) stay apart."""
    return f"{profile.name}|{profile.provider.value}|{profile.base_url}"


def store_page(history: History, profile: Profile, page: int, page_size: int | None = None) -> Page:
    """A page from the local store alone (the first frame; offline).

    For a dialect with server history the total is the server's last known
    total, which the store keeps, rather than the number of rows cached here.
    """
    size = page_size or profile.tasks_per_page
    namespace = namespace_for(profile)
    cached = history.page(namespace, page, size)
    server_total = history.meta(namespace, "server_total")
    if server_total and server_total.isdigit() and len(server_total) < 10:
        return Page(cached.tasks, page, size, max(int(server_total), cached.total), cached.skipped)
    return cached


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def task_to_dict(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "provider": task.provider.value,
        "action": task.action,
        "status": task.status.value,
        "progress": task.progress,
        "prompt": task.prompt,
        "final_prompt": task.final_prompt,
        "description": task.description,
        "fail_reason": task.fail_reason,
        "submit_time": _dt(task.submit_time),
        "start_time": _dt(task.start_time),
        "finish_time": _dt(task.finish_time),
        "image_url": task.image_url,
        "image_urls": list(task.image_urls),
        "buttons": [[b.custom_id, b.label, b.emoji] for b in task.buttons],
        "mode": task.mode.value if task.mode else None,
        "parent_id": task.parent_id,
        "origin_custom_id": task.origin_custom_id,
        "raw": task.raw,
    }


def task_from_dict(data: dict[str, Any]) -> Task:
    """A stored task; raises KeyError, TypeError or ValueError for a row that is not one."""
    if not isinstance(data.get("id"), str) or not is_task_id(data["id"]):
        raise ValueError("a stored task without a usable id")  # kept by an older mj-tui, or damaged
    return Task(
        id=data["id"],
        provider=ProviderKind(data["provider"]),
        action=Action.parse(data.get("action")),
        status=Status.parse(data.get("status")),
        progress=int(data.get("progress") or 0),
        prompt=data.get("prompt") or "",
        final_prompt=data.get("final_prompt") or "",
        description=data.get("description") or "",
        fail_reason=data.get("fail_reason"),
        submit_time=_parse_dt(data.get("submit_time")),
        start_time=_parse_dt(data.get("start_time")),
        finish_time=_parse_dt(data.get("finish_time")),
        image_url=data.get("image_url"),
        image_urls=tuple(data.get("image_urls") or ()),
        buttons=tuple(Button(*b) for b in data.get("buttons") or ()),
        mode=Mode(data["mode"]) if data.get("mode") else None,
        parent_id=data.get("parent_id"),
        origin_custom_id=data.get("origin_custom_id"),
        raw=data.get("raw") or {},
    )


class History:
    def __init__(self, path: Path | str, *, busy_timeout: float = BUSY_TIMEOUT):
        self.path: Path | str = Path(path) if str(path) != ":memory:" else ":memory:"
        self._busy_timeout = busy_timeout
        # one connection shared by the event loop and worker threads, under a lock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}  # cached COUNT(*) per namespace; dropped on inserts
        self._notices: list[HistoryNotice] = []
        self._bad_rows: set[tuple[str, str]] = set()
        #: why this session's tasks live in memory only (None: they are saved to the file)
        self.memory_only: str | None = None
        self._db = self._open()

    # -- opening and recovering ---------------------------------------------------------
    def _connect(self, target: str, *, uri: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=self._busy_timeout, uri=uri)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            for query in _SHAPE:
                db.execute(query).fetchall()
        except BaseException:
            db.close()
            raise
        return db

    def _open(self) -> sqlite3.Connection:
        if not isinstance(self.path, Path):
            return self._connect(":memory:")
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            exists = path.exists()
            if exists and not path.is_file():
                return self._replace_broken("it is a folder or something else, not a file")
            read_only = not os.access(path.parent, os.W_OK) or (exists and not os.access(path, os.W_OK))
        except OSError as exc:  # a folder that cannot be created or entered
            return self._in_memory(f"its folder cannot be used ({exc.strerror or exc})", copy=False)
        if read_only:
            return self._in_memory("it is read-only")
        try:
            return self._connect(str(path))
        except sqlite3.Error as exc:
            problem = _problem(exc)
            if problem == "corrupt":
                return self._replace_broken(f"it is damaged or not a history ({exc})")
            if problem == "locked":
                return self._in_memory("another program holds it locked", copy=False)
            if problem in ("readonly", "full"):
                return self._in_memory("it is read-only" if problem == "readonly" else "the disk is full")
            return self._in_memory(f"it cannot be opened ({exc})")

    def _in_memory(self, why: str, *, copy: bool = True) -> sqlite3.Connection:
        """A store in memory for this session: a copy of the file when it can be read."""
        self.memory_only = why
        db = self._connect(":memory:")
        copied = False
        if copy and isinstance(self.path, Path) and _is_file(self.path):
            # read-only first; `immutable` reads a WAL file nobody can write next to (its
            # newest changes may then be missing, which is better than nothing)
            for suffix in ("?mode=ro", "?immutable=1"):
                try:
                    source = sqlite3.connect(f"file:{quote(str(self.path))}{suffix}", uri=True, timeout=1.0)
                    try:
                        source.backup(db)
                    finally:
                        source.close()
                    for query in _SHAPE:
                        db.execute(query).fetchall()
                    copied = True
                    break
                except sqlite3.Error:
                    db.close()
                    db = self._connect(":memory:")
        kept = "The tasks in it are shown, but" if copied else "Nothing from it can be shown, and"
        self._notice(
            f"The task history at {self.path} cannot be written ({why}). {kept} new tasks are kept only "
            "until mj-tui exits. Fix that (permissions, disk space, the other program), then restart."
        )
        return db

    def _replace_broken(self, why: str) -> sqlite3.Connection:
        """Move the broken store aside (never deleting it), start a fresh one and copy in
        what can still be read from the old one."""
        assert isinstance(self.path, Path)
        try:
            moved = self._move_aside()
        except OSError as exc:
            return self._in_memory(f"{why}; it could not be moved aside: {exc.strerror or exc}", copy=False)
        try:
            db = self._connect(str(self.path))
        except sqlite3.Error as exc:
            return self._in_memory(f"{why}; a new one could not be started there ({exc})", copy=False)
        saved = self._salvage(moved, db) if _is_file(moved) else 0
        kept = f" {saved} task{'s' if saved != 1 else ''} could be read from it and were kept." if saved else ""
        self._notice(
            f"The task history at {self.path} could not be used ({why}). It was moved to {moved} and a new "
            f"history was started.{kept}",
            moved,
        )
        return db

    def _move_aside(self) -> Path:
        assert isinstance(self.path, Path)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}{BROKEN_SUFFIX}{stamp}")
        n = 1
        while target.exists() or target.with_name(target.name + "-wal").exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}{BROKEN_SUFFIX}{stamp}-{n}")
        os.replace(self.path, target)
        # the write-ahead log holds the newest changes: it goes with its database
        for tail in ("-wal", "-shm", "-journal"):
            companion = self.path.with_name(self.path.name + tail)
            if companion.exists():
                with contextlib.suppress(OSError):
                    os.replace(companion, target.with_name(target.name + tail))
        return target

    def _salvage(self, broken: Path, into: sqlite3.Connection) -> int:
        """Copy every row still readable from a damaged store; returns how many tasks."""
        try:
            source = sqlite3.connect(f"file:{quote(str(broken))}?mode=ro", uri=True, timeout=1.0)
        except sqlite3.Error:
            return 0
        rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        metas: list[tuple[Any, ...]] = []
        try:
            # a damaged page stops a scan: read from both ends to get round one
            for order in ("ASC", "DESC"):
                with contextlib.suppress(sqlite3.Error):
                    for row in source.execute(
                        f"SELECT profile, id, sort_key, status, updated, body FROM tasks ORDER BY rowid {order}"
                    ):
                        if (
                            len(row) == 6
                            and all(isinstance(v, str) for v in (row[0], row[1], row[3], row[5]))
                            and all(isinstance(v, (int, float)) for v in (row[2], row[4]))
                        ):
                            rows[(row[0], row[1])] = row
            with contextlib.suppress(sqlite3.Error):
                metas = [r for r in source.execute("SELECT profile, key, value FROM meta") if len(r) == 3]
        finally:
            source.close()
        try:
            into.execute("BEGIN")
            into.executemany("INSERT OR IGNORE INTO tasks VALUES (?,?,?,?,?,?)", list(rows.values()))
            into.executemany("INSERT OR IGNORE INTO meta VALUES (?,?,?)", metas)
            into.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                into.execute("ROLLBACK")
            return 0
        return len(rows)

    def _recover(self, exc: sqlite3.Error) -> None:
        """The store turned out to be damaged while in use: set it aside, go on with a fresh one."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._counts.clear()
        self._bad_rows.clear()
        if isinstance(self.path, Path) and self.memory_only is None:
            self._db = self._replace_broken(f"it is damaged ({exc})")
        else:
            self._db = self._connect(":memory:")
            self._notice(f"The task history kept in memory was damaged ({exc}) and was started again.")

    def _notice(self, message: str, moved: Path | None = None) -> None:
        if all(n.message != message for n in self._notices):
            self._notices.append(HistoryNotice(message, moved))

    def take_notices(self) -> list[HistoryNotice]:
        """What the user should be told about the history since the last call (once each)."""
        with self._lock:
            notices, self._notices = self._notices, []
        return notices

    @property
    def notices(self) -> list[HistoryNotice]:
        """The notices not taken yet."""
        with self._lock:
            return list(self._notices)

    @property
    def skipped_rows(self) -> int:
        """Stored tasks that could not be read (and are left out of every page) so far."""
        return len(self._bad_rows)

    # -- running statements: a damaged store is replaced, anything else is said clearly --
    def _read(self, fn: Callable[[], T], fallback: T) -> T:
        with self._lock:
            try:
                return fn()
            except sqlite3.Error as exc:
                if _problem(exc) == "corrupt":
                    self._recover(exc)
                    with contextlib.suppress(sqlite3.Error):
                        return fn()
                    return fallback
                self._notice(f"The task history at {self.path} could not be read just now ({exc}).")
                return fallback

    def _write(self, fn: Callable[[], T], what: str) -> T:
        with self._lock:
            try:
                return self._attempt_write(fn)
            except sqlite3.Error as exc:
                if _problem(exc) != "corrupt":
                    raise self._not_writable(exc, what) from None
                self._recover(exc)
                try:
                    return self._attempt_write(fn)
                except sqlite3.Error as again:
                    raise self._not_writable(again, what) from None

    def _attempt_write(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except BaseException:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise

    def _not_writable(self, exc: sqlite3.Error, what: str) -> HistoryNotWritable:
        problem = _problem(exc)
        where = f"The task history at {self.path}"
        if problem == "locked":
            text = f"{where} is locked by another program (another mj-tui?)"
            advice = "Try again in a moment."
        elif problem == "readonly":
            text = f"{where} is read-only"
            advice = "Make it writable, then try again."
        elif problem == "full":
            text = f"The disk holding the task history ({self._folder()}) is full"
            advice = "Free some space, then try again."
        else:
            text = f"{where} cannot be written ({exc})"
            advice = "Check the file and its folder, then try again."
        return HistoryNotWritable(f"{text}: {what} could not be saved. {advice}")

    def _folder(self) -> str:
        return str(self.path.parent) if isinstance(self.path, Path) else "memory"

    def check_writable(self) -> None:
        """Raise :class:`HistoryNotWritable` if a task could not be saved now.

        For a caller about to send a paid job: the job's id must be kept once it exists."""
        if self.memory_only:
            raise HistoryNotWritable(
                f"The task history at {self.path} cannot be written ({self.memory_only}), so a new job "
                "would be forgotten when mj-tui exits. Fix that, then restart mj-tui."
            )
        if isinstance(self.path, Path):
            try:
                free = shutil.disk_usage(self.path.parent).free
            except OSError:
                free = None
            if free is not None and free < MIN_FREE_BYTES:
                raise HistoryNotWritable(
                    f"The disk holding the task history ({self.path.parent}) is full: a new job could not be "
                    "saved. Free some space, then try again."
                )

        def probe() -> None:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO meta (profile, key, value) VALUES ('', 'write_check', ?) "
                "ON CONFLICT(profile, key) DO UPDATE SET value=excluded.value",
                (str(time.time()),),
            )
            self._db.execute("ROLLBACK")

        self._write(probe, "a new job")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- reading rows -------------------------------------------------------------------
    def _task(self, profile: str, task_id: Any, body: Any) -> Task | None:
        """A stored row as a Task, or None (counted) when it cannot be one."""
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return task_from_dict(data)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError):
            before = len(self._bad_rows)
            self._bad_rows.add((profile, str(task_id)))
            if len(self._bad_rows) > before:
                self._notice(
                    f"Some tasks in the task history at {self.path} could not be read; they are left out "
                    "(the others are fine)."
                )
            return None

    def _tasks(self, profile: str, rows: Iterable[tuple[Any, Any]]) -> tuple[list[Task], int]:
        tasks: list[Task] = []
        skipped = 0
        for task_id, body in rows:
            task = self._task(profile, task_id, body)
            if task is None:
                skipped += 1
            else:
                tasks.append(task)
        return tasks, skipped

    # -- writes -------------------------------------------------------------------
    def upsert(self, profile: str, tasks: Iterable[Task]) -> list[Task]:
        """Store tasks, keeping what we knew that the server does not repeat.

        Returns the merged tasks (e.g. with the mode we submitted with, and the
        parent we pressed the button on, which most backends never echo).
        Raises :class:`HistoryNotWritable` when they could not be saved.
        """
        tasks = list(tasks)
        if not tasks:
            return []

        def write() -> list[Task]:
            now = time.time()
            merged: list[Task] = []
            known = self._load(profile, [t.id for t in tasks])
            rows = []
            for task in tasks:
                old = known.get(task.id)
                if old is not None and old.status.is_terminal and task.status.in_flight:
                    # an answer that left the server before the task ended (a history page
                    # asked for earlier): a finished task never starts again
                    task = old
                elif old is not None:
                    task = task.with_(
                        mode=task.mode or old.mode,
                        parent_id=task.parent_id or old.parent_id,
                        origin_custom_id=task.origin_custom_id or old.origin_custom_id,
                        prompt=task.prompt or old.prompt,
                        submit_time=task.submit_time or old.submit_time,
                    )
                sort_key = (
                    task.submit_time.timestamp() if task.submit_time else (self._sort_key_of(profile, task.id) or now)
                )
                merged.append(task)
                rows.append((profile, task.id, sort_key, task.status.value, now, json.dumps(task_to_dict(task))))
            if len(known) < len(tasks):
                self._counts.pop(profile, None)  # new rows (or unreadable ones replaced): recount
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO tasks (profile, id, sort_key, status, updated, body) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(profile, id) DO UPDATE SET sort_key=excluded.sort_key, status=excluded.status, "
                "updated=excluded.updated, body=excluded.body",
                rows,
            )
            self._db.execute("COMMIT")
            for task in merged:  # a damaged row just rewritten is a good one now
                self._bad_rows.discard((profile, task.id))
            return merged

        return self._write(write, "the task" if len(tasks) == 1 else f"{len(tasks)} tasks")

    def set_meta(self, profile: str, key: str, value: str) -> None:
        def write() -> None:
            self._db.execute(
                "INSERT INTO meta (profile, key, value) VALUES (?,?,?) "
                "ON CONFLICT(profile, key) DO UPDATE SET value=excluded.value",
                (profile, key, value),
            )

        self._write(write, "a setting")

    def meta(self, profile: str, key: str) -> str | None:
        def read() -> str | None:
            row = self._db.execute("SELECT value FROM meta WHERE profile=? AND key=?", (profile, key)).fetchone()
            return row[0] if row and isinstance(row[0], str) else None

        return self._read(read, None)

    # -- reads --------------------------------------------------------------------
    def _sort_key_of(self, profile: str, task_id: str) -> float | None:
        row = self._db.execute("SELECT sort_key FROM tasks WHERE profile=? AND id=?", (profile, task_id)).fetchone()
        return float(row[0]) if row and isinstance(row[0], (int, float)) else None

    def _load(self, profile: str, ids: list[str]) -> dict[str, Task]:
        found: dict[str, Task] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT id, body FROM tasks WHERE profile=? AND id IN ({marks})", (profile, *chunk)
            ).fetchall()
            for task in self._tasks(profile, rows)[0]:
                found[task.id] = task
        return found

    def get(self, profile: str, task_id: str) -> Task | None:
        return self._read(lambda: self._load(profile, [task_id]).get(task_id), None)

    def count(self, profile: str) -> int:
        return self._read(lambda: self._count(profile), 0)

    def _count(self, profile: str) -> int:
        if profile not in self._counts:
            self._counts[profile] = int(
                self._db.execute("SELECT COUNT(*) FROM tasks WHERE profile=?", (profile,)).fetchone()[0]
            )
        return self._counts[profile]

    def page(self, profile: str, page: int, page_size: int) -> Page:
        page = max(1, page)

        def read() -> Page:
            total = self._count(profile)
            # skip the offset inside the (covering) order index, then read only this page's bodies
            rows = self._db.execute(
                "SELECT id, body FROM tasks WHERE rowid IN ("
                " SELECT rowid FROM tasks WHERE profile=? ORDER BY sort_key DESC, id DESC LIMIT ? OFFSET ?"
                ") ORDER BY sort_key DESC, id DESC",
                (profile, page_size, (page - 1) * page_size),
            ).fetchall()
            tasks, skipped = self._tasks(profile, rows)
            return Page(tasks, page, page_size, total, skipped)

        return self._read(read, Page([], page, page_size, 0))

    def in_flight(self, profile: str, *, since: float | None = None) -> list[Task]:
        """Unfinished tasks, e.g. to resume polling after a restart."""
        statuses = [s.value for s in Status if s.in_flight]
        marks = ",".join("?" * len(statuses))

        def read() -> list[Task]:
            rows = self._db.execute(
                f"SELECT id, body FROM tasks WHERE profile=? AND status IN ({marks}) AND sort_key >= ? "
                "ORDER BY sort_key DESC",
                (profile, *statuses, since or 0),
            ).fetchall()
            return self._tasks(profile, rows)[0]

        return self._read(read, [])

    def position(self, profile: str, task_id: str) -> int | None:
        """0-based index of a task in newest-first order (to jump to its page)."""

        def read() -> int | None:
            key = self._sort_key_of(profile, task_id)
            if key is None:
                return None
            (n,) = self._db.execute(
                "SELECT COUNT(*) FROM tasks WHERE profile=? AND (sort_key > ? OR (sort_key = ? AND id > ?))",
                (profile, key, key, task_id),
            ).fetchone()
            return int(n)

        return self._read(read, None)
