"""A local SQLite store of every task seen, paged newest first.

midjourney-proxy has no paged history for an API key, so this store *is*
the history there; for OhMyGPT it caches server pages so the first frame
can be drawn before the network answers.

It is also the library: a full-text index (SQLite FTS5) over every task's prompt, final
prompt and facet tokens (see search.py), kept in step on every write, and the stars and tags
a person gives tasks. Those are ours: they live in their own tables, so no server answer or
sync ever clears them, and every task read back carries them.

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
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from .config import Profile
from .errors import HistoryError, HistoryNotWritable, QueryError
from .models import Action, Button, Mode, Page, ProviderKind, Status, Task, is_task_id, normalize_tag

if TYPE_CHECKING:
    # the query language loads with the first search or index write, not with the first
    # page the TUI draws from the store
    from . import search as query_language

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
#: the library's tables (version 2): stars and tags are ours, the index follows the tasks
LIBRARY_SCHEMA = """
CREATE TABLE IF NOT EXISTS stars (
    profile TEXT NOT NULL,
    id      TEXT NOT NULL,
    PRIMARY KEY (profile, id)
);
CREATE TABLE IF NOT EXISTS tags (
    profile TEXT NOT NULL,
    id      TEXT NOT NULL,
    tag     TEXT NOT NULL,
    PRIMARY KEY (profile, id, tag)
);
CREATE INDEX IF NOT EXISTS tags_by_name ON tags (profile, tag);
CREATE TABLE IF NOT EXISTS namespaces (
    slot    INTEGER PRIMARY KEY,
    profile TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS search_docs (
    doc     INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    id      TEXT NOT NULL,
    UNIQUE (profile, id)
);
"""
# A document's key (its rowid in the index) orders the index by namespace, then time:
# slot << 51 | time in 10 ms steps << 10 | a tie-breaker. One namespace is then a range of
# keys, since:/before: narrow the range, and "newest first" is the index's own order, so a
# page of a search reads only its own rows whatever the history's size.
_SLOT_SHIFT, _TIME_SHIFT = 51, 10
_TIME_MAX = (1 << (_SLOT_SHIFT - _TIME_SHIFT)) - 1
_SLOT_MAX = (1 << 12) - 1


def _time_bucket(moment: float) -> int:
    return max(0, min(_TIME_MAX, int(moment * 100)))


#: the full-text index: one row per task (its rowid is the document key, search_docs), see search.py
FTS_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5("
    "prompt, final_prompt, facets, tokenize='unicode61 remove_diacritics 2')"
)
#: the same where this SQLite has no FTS5: whole words found with LIKE (search.plain)
PLAIN_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS search_plain (rowid INTEGER PRIMARY KEY, prompt TEXT, final_prompt TEXT, facets TEXT)"
)
#: PRAGMA user_version of a store with the library (0: the version before it)
SCHEMA_VERSION = 2
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
        "starred": task.starred,
        "tags": list(task.tags),
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


def _document(task: Task, starred: bool, tags: Iterable[str]) -> query_language.Document:
    """What the index keeps of a task (its namespace is in its key, not in the document)."""
    from . import search as query_language

    return query_language.document(
        prompt=task.prompt,
        final_prompt=task.final_prompt,
        status=task.status,
        action=task.action,
        mode=task.mode.value if task.mode else None,
        starred=starred,
        tags=tags,
    )


class History:
    def __init__(self, path: Path | str, *, busy_timeout: float = BUSY_TIMEOUT, defer_index: bool = False):
        """`defer_index`: an older store's search index is built by :meth:`ensure_index`
        (or the first search), not while opening: the TUI opens the store for its first
        frame and builds the index in the thread that builds the service (about a second
        per 10,000 tasks, once)."""
        self.path: Path | str = Path(path) if str(path) != ":memory:" else ":memory:"
        self._busy_timeout = busy_timeout
        self._defer_index = defer_index
        self._index_stale = False  # the index is to be built before the next search
        # one connection shared by the event loop and worker threads, under a lock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}  # cached COUNT(*) per namespace; dropped on inserts
        self._notices: list[HistoryNotice] = []
        self._bad_rows: set[tuple[str, str]] = set()
        #: why this session's tasks live in memory only (None: they are saved to the file)
        self.memory_only: str | None = None
        #: the index is SQLite's FTS5 (else LIKE over plain columns: an SQLite built without it)
        self._fts = True
        self._slots: dict[str, int] = {}
        self._db = self._open()

    # -- opening and recovering ---------------------------------------------------------
    def _connect(self, target: str, *, uri: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=self._busy_timeout, uri=uri)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA cache_size=-16384")  # 16 MiB at most: the order index and the search index stay warm
            db.executescript(SCHEMA)
            for query in _SHAPE:
                db.execute(query).fetchall()
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring a store up to the library's version: its tables, and an index of every task
        already kept (nothing is lost: the tasks table is only read)."""
        db.executescript(LIBRARY_SCHEMA)
        try:
            db.execute(FTS_SCHEMA)
            self._fts = True
        except sqlite3.OperationalError as exc:
            if "fts5" not in str(exc).lower():
                raise
            db.execute(PLAIN_SCHEMA)
            self._fts = False
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version < SCHEMA_VERSION or self._index_empty(db):
            if self._defer_index:
                self._index_stale = True
            else:
                self._reindex(db)

    def ensure_index(self) -> None:
        """Build the search index now if opening left it to be built (see `defer_index`).
        A store that cannot be written just now keeps it for the next search."""
        with self._lock:
            self._ensure_index_locked()

    def _ensure_index_locked(self) -> None:
        if self._index_stale:
            with contextlib.suppress(sqlite3.Error):
                self._reindex(self._db)
                self._index_stale = False

    def _index_empty(self, db: sqlite3.Connection) -> bool:
        table = "search" if self._fts else "search_plain"
        has_index = db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
        return not has_index and db.execute("SELECT 1 FROM tasks LIMIT 1").fetchone() is not None

    def _reindex(self, db: sqlite3.Connection) -> None:
        """The whole index again from the stored tasks (an upgrade; a store rebuilt after damage)."""
        table = "search" if self._fts else "search_plain"
        stars = {(p, i) for p, i in db.execute("SELECT profile, id FROM stars")}
        tags: dict[tuple[str, str], list[str]] = {}
        for p, i, t in db.execute("SELECT profile, id, tag FROM tags ORDER BY tag"):
            tags.setdefault((p, i), []).append(t)
        self._slots = {}
        db.execute("BEGIN")
        try:
            db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM search_docs")
            batch: dict[str, list[tuple[Task, float]]] = {}
            cursor = db.execute("SELECT profile, id, sort_key, body FROM tasks")
            while rows := cursor.fetchmany(1000):
                for profile, task_id, sort_key, body in rows:
                    task = self._task(profile, task_id, body)
                    if task is None or not isinstance(sort_key, (int, float)):
                        continue
                    key = (profile, task.id)
                    marked = task.with_(starred=key in stars, tags=tuple(tags.get(key, ())))
                    batch.setdefault(profile, []).append((marked, float(sort_key)))
                for profile, items in batch.items():
                    self._index_into(db, profile, items)
                batch = {}
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def _slot(self, db: sqlite3.Connection, profile: str) -> int:
        """The namespace's number in the document keys (given on first use)."""
        slot = self._slots.get(profile)
        if slot is None:
            row = db.execute("SELECT slot FROM namespaces WHERE profile=?", (profile,)).fetchone()
            if row is None:
                (top,) = db.execute("SELECT COALESCE(MAX(slot), 0) FROM namespaces").fetchone()
                if top >= _SLOT_MAX:
                    raise sqlite3.OperationalError("too many profiles in one history")
                db.execute("INSERT INTO namespaces (slot, profile) VALUES (?,?)", (top + 1, profile))
                row = (top + 1,)
            slot = self._slots[profile] = int(row[0])
        return slot

    def _index_into(self, db: sqlite3.Connection, profile: str, items: list[tuple[Task, float]]) -> None:
        """Put these tasks' documents in the index (inside the caller's transaction)."""
        table = "search" if self._fts else "search_plain"
        slot = self._slot(db, profile)
        for task, sort_key in items:
            base = (slot << _SLOT_SHIFT) | (_time_bucket(sort_key) << _TIME_SHIFT)
            row = db.execute("SELECT doc FROM search_docs WHERE profile=? AND id=?", (profile, task.id)).fetchone()
            if row is not None:
                db.execute(f"DELETE FROM {table} WHERE rowid=?", (row[0],))
                if row[0] >> _TIME_SHIFT == base >> _TIME_SHIFT:
                    doc = int(row[0])
                else:
                    db.execute("DELETE FROM search_docs WHERE doc=?", (row[0],))
                    row = None
            if row is None:
                # the newest key free in its 10 ms step: keys go up, so a later one sorts first
                (top,) = db.execute(
                    "SELECT MAX(doc) FROM search_docs WHERE doc >= ? AND doc < ?", (base, base + (1 << _TIME_SHIFT))
                ).fetchone()
                doc = base if top is None else int(top) + 1
                db.execute("INSERT INTO search_docs (doc, profile, id) VALUES (?,?,?)", (doc, profile, task.id))
            db.execute(
                f"INSERT INTO {table} (rowid, prompt, final_prompt, facets) VALUES (?,?,?,?)",
                (doc, *self._index_row(task)),
            )

    def _index_row(self, task: Task) -> tuple[str, str, str]:
        from . import search as query_language

        doc = _document(task, task.starred, task.tags)
        if not self._fts:
            doc = query_language.plain(doc)
        return doc.prompt, doc.final_prompt, doc.facets

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
                    self._migrate(db)
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
        stars: list[tuple[Any, ...]] = []
        tags: list[tuple[Any, ...]] = []
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
            with contextlib.suppress(sqlite3.Error):
                stars = [r for r in source.execute("SELECT profile, id FROM stars") if len(r) == 2]
            with contextlib.suppress(sqlite3.Error):
                tags = [r for r in source.execute("SELECT profile, id, tag FROM tags") if len(r) == 3]
        finally:
            source.close()
        try:
            into.execute("BEGIN")
            into.executemany(
                "INSERT OR IGNORE INTO tasks (profile, id, sort_key, status, updated, body) VALUES (?,?,?,?,?,?)",
                list(rows.values()),
            )
            into.executemany("INSERT OR IGNORE INTO meta VALUES (?,?,?)", metas)
            into.executemany("INSERT OR IGNORE INTO stars VALUES (?,?)", stars)
            into.executemany("INSERT OR IGNORE INTO tags VALUES (?,?,?)", tags)
            into.execute("COMMIT")
            self._reindex(into)
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                into.execute("ROLLBACK")
            return 0
        return len(rows)

    def _recover(self, exc: sqlite3.Error) -> None:
        """The store turned out to be damaged while in use: set it aside, go on with a fresh one."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._slots = {}
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
        return self._marked(profile, tasks), skipped

    def _marks(self, profile: str, ids: list[str]) -> tuple[set[str], dict[str, tuple[str, ...]]]:
        """The stars and tags of these tasks (ours, kept beside the tasks)."""
        starred: set[str] = set()
        tags: dict[str, list[str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            starred.update(
                row[0]
                for row in self._db.execute(
                    f"SELECT id FROM stars WHERE profile=? AND id IN ({marks})", (profile, *chunk)
                )
            )
            for task_id, tag in self._db.execute(
                f"SELECT id, tag FROM tags WHERE profile=? AND id IN ({marks}) ORDER BY tag", (profile, *chunk)
            ):
                tags.setdefault(task_id, []).append(tag)
        return starred, {k: tuple(v) for k, v in tags.items()}

    def _marked(self, profile: str, tasks: list[Task]) -> list[Task]:
        if not tasks:
            return tasks
        starred, tags = self._marks(profile, [t.id for t in tasks])
        return [
            t
            if (t.starred, t.tags) == (t.id in starred, tags.get(t.id, ()))
            else t.with_(starred=t.id in starred, tags=tags.get(t.id, ()))
            for t in tasks
        ]

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
                        # a seed asked for once stays known: most servers never repeat it
                        raw=task.raw if task.seed or not old.seed else {**task.raw, "seed": old.seed},
                    )
                sort_key = (
                    task.submit_time.timestamp() if task.submit_time else (self._sort_key_of(profile, task.id) or now)
                )
                merged.append(task)
                rows.append((profile, task.id, sort_key, task.status.value, now, json.dumps(task_to_dict(task))))
            if len(known) < len(tasks):
                self._counts.pop(profile, None)  # new rows (or unreadable ones replaced): recount
            merged = self._marked(profile, merged)  # ours: an answer never clears a star or a tag
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO tasks (profile, id, sort_key, status, updated, body) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(profile, id) DO UPDATE SET sort_key=excluded.sort_key, status=excluded.status, "
                "updated=excluded.updated, body=excluded.body",
                rows,
            )
            keys = {row[1]: row[2] for row in rows}
            self._index_into(self._db, profile, [(t, keys[t.id]) for t in {t.id: t for t in merged}.values()])
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

    def known(self, profile: str, ids: list[str]) -> dict[str, Status]:
        """Which of these tasks the store holds, with their stored status (one cheap read)."""

        def read() -> dict[str, Status]:
            found: dict[str, Status] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for task_id, status in self._db.execute(
                    f"SELECT id, status FROM tasks WHERE profile=? AND id IN ({marks})", (profile, *chunk)
                ):
                    found[task_id] = Status.parse(status)
            return found

        return self._read(read, {})

    # -- the library: search, stars and tags ---------------------------------------------
    def search(
        self,
        profile: str,
        query: str | query_language.Query,
        page: int = 1,
        page_size: int = 20,
        *,
        now: float | None = None,
    ) -> Page:
        """The tasks matching a query (see search.py), newest first, a page at a time.

        Raises QueryError for a query that cannot be read, HistoryError when the store
        cannot be read just now."""
        from . import search as query_language

        if isinstance(query, str):
            query = query_language.parse(query, now=now, profile=profile.split("|", 1)[0])
        page, size = max(1, page), max(1, page_size)
        if query.everything:
            return self.page(profile, page, size)
        with self._lock:
            self._ensure_index_locked()
            try:
                return self._search(profile, query, page, size)
            except sqlite3.Error as exc:
                if _problem(exc) == "corrupt":
                    self._recover(exc)
                    with contextlib.suppress(sqlite3.Error):
                        return self._search(profile, query, page, size)
                if "fts5" in str(exc).lower() and "syntax" in str(exc).lower():  # pragma: no cover - quoted words
                    raise QueryError(f"That search could not be run ({exc}).") from None
                raise HistoryError(
                    f"The task history at {self.path} could not be searched just now ({exc}). Try again in a moment."
                ) from None

    def _search(self, profile: str, query: query_language.Query, page: int, size: int) -> Page:
        from . import search as query_language

        row = self._db.execute("SELECT slot FROM namespaces WHERE profile=?", (profile,)).fetchone()
        if row is None:
            return Page([], page, size, 0)
        slot = int(row[0]) << _SLOT_SHIFT
        low, high = slot, slot + (1 << _SLOT_SHIFT)
        if query.since is not None:
            low = max(low, slot | (_time_bucket(query.since) << _TIME_SHIFT))
        if query.before is not None:
            high = min(high, slot | (_time_bucket(query.before) << _TIME_SHIFT))
        if low >= high:
            return Page([], page, size, 0)
        if self._fts:
            table = "search"
            where = "search MATCH ?"
            params: list[Any] = [query_language.fts_match(query) or "{facets}: " + query_language.ALL]
        else:
            table = "search_plain"
            where, params = query_language.like_where(query)
        where += " AND rowid >= ? AND rowid < ?"
        params += [low, high]
        (total,) = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()
        docs = [
            r[0]
            for r in self._db.execute(
                f"SELECT rowid FROM {table} WHERE {where} ORDER BY rowid DESC LIMIT ? OFFSET ?",
                (*params, size, (page - 1) * size),
            )
        ]
        ids: list[str] = []
        if docs:
            marks = ",".join("?" * len(docs))
            found = dict(self._db.execute(f"SELECT doc, id FROM search_docs WHERE doc IN ({marks})", docs).fetchall())
            ids = [found[d] for d in docs if d in found]
        loaded = self._load(profile, ids)
        tasks = [loaded[i] for i in ids if i in loaded]
        return Page(tasks, page, size, int(total), len(ids) - len(tasks))

    def _reindex_one(self, profile: str, task_id: str) -> None:
        task = self._load(profile, [task_id]).get(task_id)
        key = self._sort_key_of(profile, task_id)
        if task is not None and key is not None:
            self._index_into(self._db, profile, [(task, key)])

    def _require(self, profile: str, task_id: str) -> None:
        row = self._db.execute("SELECT 1 FROM tasks WHERE profile=? AND id=?", (profile, task_id)).fetchone()
        if row is None:
            from .errors import TaskNotFound

            raise TaskNotFound(f"Task {task_id} is not in the local history.")

    def _mark(self, profile: str, task_id: str, statement: str, params: tuple[Any, ...], what: str) -> Task:
        def write() -> Task:
            self._require(profile, task_id)
            self._db.execute("BEGIN")
            self._db.execute(statement, params)
            self._reindex_one(profile, task_id)
            self._db.execute("COMMIT")
            task = self._load(profile, [task_id]).get(task_id)
            if task is None:
                from .errors import TaskNotFound

                raise TaskNotFound(f"Task {task_id} in the local history could not be read.")
            return task

        return self._write(write, what)

    def set_starred(self, profile: str, task_id: str, starred: bool = True) -> Task:
        """Star (or unstar) a stored task; returns it as stored. TaskNotFound if it is not."""
        if starred:
            statement = "INSERT OR IGNORE INTO stars (profile, id) VALUES (?,?)"
        else:
            statement = "DELETE FROM stars WHERE profile=? AND id=?"
        return self._mark(profile, task_id, statement, (profile, task_id), "the star")

    def add_tag(self, profile: str, task_id: str, name: str) -> Task:
        """Tag a stored task (the name as typed: see normalize_tag); QueryError for a bad name."""
        tag = _tag_named(name)
        return self._mark(
            profile,
            task_id,
            "INSERT OR IGNORE INTO tags (profile, id, tag) VALUES (?,?,?)",
            (profile, task_id, tag),
            "the tag",
        )

    def remove_tag(self, profile: str, task_id: str, name: str) -> Task:
        tag = _tag_named(name)
        return self._mark(
            profile, task_id, "DELETE FROM tags WHERE profile=? AND id=? AND tag=?", (profile, task_id, tag), "the tag"
        )

    def tag_names(self, profile: str) -> list[tuple[str, int]]:
        """Every tag in use in this namespace, with how many tasks carry it, by name."""

        def read() -> list[tuple[str, int]]:
            rows = self._db.execute(
                "SELECT tag, COUNT(*) FROM tags WHERE profile=? GROUP BY tag ORDER BY tag", (profile,)
            ).fetchall()
            return [(str(tag), int(n)) for tag, n in rows]

        return self._read(read, [])


def _tag_named(name: str) -> str:
    tag = normalize_tag(name)
    if tag is None:
        shown = "".join(ch if ch.isprintable() else "?" for ch in name)[:40]
        raise QueryError(f"“{shown}” cannot be a tag: use a–z, 0–9, '-' and '_', up to 32 characters.")
    return tag
