"""Paid requests, written down before they leave: nothing sent is ever lost track of.

Every submit is recorded as ``sending`` (committed) before its request goes out, and
marked done with the task id the server gave. A row still ``sending`` means the answer
never came back (a dropped connection, a garbled answer, the process killed mid-flight):
the request may or may not have reached the server. The service then looks for the
task where the dialect allows it, or keeps it as *unconfirmed* for the person to decide
(send again, or dismiss). It never resends on its own: that could pay twice.

The table lives in the history's SQLite file (WAL: a SIGKILL loses nothing committed),
on a connection of its own.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS submits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    profile TEXT NOT NULL,
    kind TEXT NOT NULL,          -- imagine, action, modal, blend, describe, shorten
    prompt TEXT NOT NULL,        -- what the person would recognise it by
    started REAL NOT NULL,       -- epoch seconds, just before the request left
    state TEXT NOT NULL,         -- sending | done | unconfirmed
    task_id TEXT,
    owner TEXT NOT NULL DEFAULT '', -- host:pid of the process that sent it
    ref TEXT                     -- what sent it, when it was the queue: "job:<id>"
);
CREATE INDEX IF NOT EXISTS submits_open ON submits(profile, state);
"""


@dataclass(frozen=True)
class Pending:
    """A submit whose answer never came back."""

    id: int
    kind: str
    prompt: str
    started: float


class Journal:
    def __init__(self, path: Path | str):
        self._lock = threading.Lock()
        #: why the journal is kept in memory only (the history's file cannot be written);
        #: the service refuses paid requests then (History.check_writable says why)
        self.problem: str | None = None
        try:
            self._db = self._open(str(path))
        except (sqlite3.Error, OSError) as exc:
            self.problem = str(exc)
            self._db = self._open(":memory:")

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(submits)")}
        if "ref" not in columns:  # a store from before the queue
            db.execute("ALTER TABLE submits ADD COLUMN ref TEXT")
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def begin(self, profile: str, kind: str, prompt: str, *, ref: str | None = None) -> int:
        """Record a submit as leaving now; committed before this returns. `ref` names what
        sent it (the queue's job), so a restart can tell whether that job's request left."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO submits (profile, kind, prompt, started, state, owner, ref) "
                "VALUES (?, ?, ?, ?, 'sending', ?, ?)",
                (profile, kind, prompt, time.time(), _OWNER, ref),
            )
        return int(cursor.lastrowid or 0)

    def by_ref(self, profile: str, ref: str, *, since: float | None = None) -> tuple[str, str | None] | None:
        """(state, task id) of the latest submit `ref` made; None when none left (or the
        server refused it outright: a refusal leaves no row). `since`: only a submit begun
        then or later (a retried job's earlier send is another request, not this one)."""
        with self._lock:
            row = self._db.execute(
                "SELECT state, task_id FROM submits WHERE profile=? AND ref=? AND started >= ? "
                "ORDER BY id DESC LIMIT 1",
                (profile, ref, since if since is not None else float("-inf")),
            ).fetchone()
        return (str(row[0]), row[1]) if row else None

    def done(self, entry: int, task_id: str) -> None:
        """The server answered with this task: nothing is pending any more."""
        with self._lock:
            self._db.execute("UPDATE submits SET state='done', task_id=? WHERE id=?", (task_id, entry))

    def refused(self, entry: int) -> None:
        """The server answered, refusing: nothing was created, nothing is pending."""
        with self._lock:
            self._db.execute("DELETE FROM submits WHERE id=?", (entry,))

    def unconfirmed(self, entry: int, task_id: str) -> None:
        """Handed to the person as an unconfirmed task (see the module's docstring)."""
        with self._lock:
            self._db.execute("UPDATE submits SET state='unconfirmed', task_id=? WHERE id=?", (task_id, entry))

    def get(self, entry: int) -> Pending | None:
        with self._lock:
            row = self._db.execute("SELECT id, kind, prompt, started FROM submits WHERE id=?", (entry,)).fetchone()
        return Pending(*row) if row else None

    def unresolved(self, profile: str) -> list[tuple[Pending, str]]:
        """Entries handed to the person as unconfirmed tasks, with those tasks' ids."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, prompt, started, task_id FROM submits WHERE profile=? AND state='unconfirmed'",
                (profile,),
            ).fetchall()
        return [(Pending(*row[:4]), str(row[4])) for row in rows]

    def abandoned(self, profile: str, *, older_than: float) -> list[Pending]:
        """Submits left 'sending' by a process that is gone: one on this machine that no
        longer runs, or, from elsewhere (a shared home over NFS), any older than `older_than`
        seconds, longer than a request may take."""
        cutoff = time.time() - older_than
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, prompt, started, owner FROM submits WHERE profile=? AND state='sending' ORDER BY id",
                (profile,),
            ).fetchall()
        return [Pending(*row[:4]) for row in rows if row[4] != _OWNER and _gone(row[4], row[3], cutoff)]


_HOST = socket.gethostname()
_OWNER = f"{_HOST}:{os.getpid()}"


def this_process() -> str:
    """host:pid, as the journal and the queue's leases name their owner."""
    return _OWNER


def owner_gone(owner: str, since: float, cutoff: float) -> bool:
    """Whether `owner` (host:pid) no longer runs: a process on this machine that is gone,
    or one elsewhere whose work began (`since`) before `cutoff`."""
    return _gone(owner, since, cutoff)


def _gone(owner: str, started: float, cutoff: float) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != _HOST or not pid.isdigit():
        return started <= cutoff
    try:
        os.kill(int(pid), 0)  # signal 0: is it alive? (sends nothing)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False
