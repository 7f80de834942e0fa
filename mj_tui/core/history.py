"""A local SQLite store of every task seen, paged newest first.

midjourney-proxy has no paged history for an API key, so this store *is*
the history there; for OhMyGPT it caches server pages so the first frame
can be drawn before the network answers.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from .config import Profile
from .models import Action, Button, Mode, Page, ProviderKind, Status, Task

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


def namespace_for(profile: Profile) -> str:
    """Tasks of another profile, dialect or base URL (e.g. the emulator) stay apart."""
    return f"{profile.name}|{profile.provider.value}|{profile.base_url}"


def store_page(history: History, profile: Profile, page: int, page_size: int | None = None) -> Page:
    """A page from the local store alone (the first frame; offline).

    For a dialect with server history the total is the server's last known
    total, which the store keeps, rather than the number of rows cached here.
    """
    size = page_size or profile.page_size
    namespace = namespace_for(profile)
    cached = history.page(namespace, page, size)
    server_total = history.meta(namespace, "server_total")
    if server_total and server_total.isdigit():
        return Page(cached.tasks, page, size, max(int(server_total), cached.total))
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
    def __init__(self, path: Path | str):
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # one connection shared by the event loop and worker threads, under a lock
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}  # cached COUNT(*) per namespace; dropped on inserts
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writes -------------------------------------------------------------------
    def upsert(self, profile: str, tasks: Iterable[Task]) -> list[Task]:
        """Store tasks, keeping what we knew that the server does not repeat.

        Returns the merged tasks (e.g. with the mode we submitted with, and the
        parent we pressed the button on, which most backends never echo).
        """
        tasks = list(tasks)
        if not tasks:
            return []
        now = time.time()
        merged: list[Task] = []
        with self._lock:
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
                self._counts.pop(profile, None)  # new rows: recount on the next page read
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO tasks (profile, id, sort_key, status, updated, body) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(profile, id) DO UPDATE SET sort_key=excluded.sort_key, status=excluded.status, "
                "updated=excluded.updated, body=excluded.body",
                rows,
            )
            self._db.execute("COMMIT")
        return merged

    def set_meta(self, profile: str, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (profile, key, value) VALUES (?,?,?) "
                "ON CONFLICT(profile, key) DO UPDATE SET value=excluded.value",
                (profile, key, value),
            )

    def meta(self, profile: str, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE profile=? AND key=?", (profile, key)).fetchone()
        return row[0] if row else None

    # -- reads --------------------------------------------------------------------
    def _sort_key_of(self, profile: str, task_id: str) -> float | None:
        row = self._db.execute("SELECT sort_key FROM tasks WHERE profile=? AND id=?", (profile, task_id)).fetchone()
        return row[0] if row else None

    def _load(self, profile: str, ids: list[str]) -> dict[str, Task]:
        found: dict[str, Task] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for (body,) in self._db.execute(
                f"SELECT body FROM tasks WHERE profile=? AND id IN ({marks})", (profile, *chunk)
            ):
                task = task_from_dict(json.loads(body))
                found[task.id] = task
        return found

    def get(self, profile: str, task_id: str) -> Task | None:
        with self._lock:
            return self._load(profile, [task_id]).get(task_id)

    def count(self, profile: str) -> int:
        with self._lock:
            return self._count(profile)

    def _count(self, profile: str) -> int:
        if profile not in self._counts:
            self._counts[profile] = self._db.execute(
                "SELECT COUNT(*) FROM tasks WHERE profile=?", (profile,)
            ).fetchone()[0]
        return self._counts[profile]

    def page(self, profile: str, page: int, page_size: int) -> Page:
        page = max(1, page)
        with self._lock:
            total = self._count(profile)
            # skip the offset inside the (covering) order index, then read only this page's bodies
            rows = self._db.execute(
                "SELECT body FROM tasks WHERE rowid IN ("
                " SELECT rowid FROM tasks WHERE profile=? ORDER BY sort_key DESC, id DESC LIMIT ? OFFSET ?"
                ") ORDER BY sort_key DESC, id DESC",
                (profile, page_size, (page - 1) * page_size),
            ).fetchall()
        return Page([task_from_dict(json.loads(b)) for (b,) in rows], page, page_size, total)

    def in_flight(self, profile: str, *, since: float | None = None) -> list[Task]:
        """Unfinished tasks, e.g. to resume polling after a restart."""
        statuses = [s.value for s in Status if s.in_flight]
        marks = ",".join("?" * len(statuses))
        with self._lock:
            rows = self._db.execute(
                f"SELECT body FROM tasks WHERE profile=? AND status IN ({marks}) AND sort_key >= ? "
                "ORDER BY sort_key DESC",
                (profile, *statuses, since or 0),
            ).fetchall()
        return [task_from_dict(json.loads(b)) for (b,) in rows]

    def position(self, profile: str, task_id: str) -> int | None:
        """0-based index of a task in newest-first order (to jump to its page)."""
        with self._lock:
            key = self._sort_key_of(profile, task_id)
            if key is None:
                return None
            (n,) = self._db.execute(
                "SELECT COUNT(*) FROM tasks WHERE profile=? AND (sort_key > ? OR (sort_key = ? AND id > ?))",
                (profile, key, key, task_id),
            ).fetchone()
        return int(n)
