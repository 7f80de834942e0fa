"""The local job queue: prompts waiting for a free slot at the provider, kept on disk.

A job moves through explicit states::

    queued ──► sending ──► submitted ──► running ──► done
       ▲          │            │            └──────► failed | cancelled
       │          │            └─────────────────────► failed | cancelled
       │          └──► unknown (the answer never came back: a person decides)
       └── retry (by a person), or a clear refusal that made nothing (queue full, 429)

The store is two tables in the history's SQLite file (WAL), on a connection of its own,
and every change is committed before it is acted on: ``sending`` is written before the
request leaves, the task id as soon as it returns. A job is taken by an atomic update
(``queued`` → ``sending`` with this process as owner and a lease expiry), inside one
write transaction that also counts the slots in use and the money spent, so two
processes on one profile (a TUI and a headless batch) never take the same job nor pass
the limit or a cap between them. What a job in ``sending`` became after its owner died
is decided by :mod:`mj_tui.core.queue_runner` from the submit journal, never by sending
it again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from .journal import owner_gone, this_process
from .queue_models import (
    ACTIVE,
    ACTIVE_STATES,
    Batch,
    Claim,
    FollowUps,
    Job,
    JobKind,
    JobState,
    NewJob,
    QueueError,
    Spend,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_batches (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    profile    TEXT NOT NULL,
    name       TEXT NOT NULL,          -- what a person calls it: a file's name, "composer"
    source     TEXT NOT NULL DEFAULT '', -- a prompt file's path and content hash: a re-run resumes it
    created    REAL NOT NULL,
    cap        REAL,                   -- the most this batch may spend (NULL: no cap)
    follow_ups TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS queue_batches_source ON queue_batches (profile, source);
CREATE TABLE IF NOT EXISTS queue_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    profile     TEXT NOT NULL,
    batch       INTEGER NOT NULL,
    position    REAL NOT NULL,         -- the order queued jobs go in
    kind        TEXT NOT NULL,         -- imagine | upscale | save
    prompt      TEXT NOT NULL,
    mode        TEXT,
    images      TEXT NOT NULL DEFAULT '[]',
    parent_job  INTEGER,               -- a follow-up's job
    parent_task TEXT,                  -- a follow-up's task (the grid to upscale, the picture to save)
    detail      TEXT NOT NULL DEFAULT '', -- upscale: the quadrant; save: the folder
    line        INTEGER,               -- where it came from in a prompt file
    state       TEXT NOT NULL,
    task_id     TEXT,
    cost        REAL,                  -- the estimate when queued (NULL: not known)
    error       TEXT NOT NULL DEFAULT '',
    created     REAL NOT NULL,
    sent        REAL,
    finished    REAL,
    owner       TEXT NOT NULL DEFAULT '', -- host:pid holding it while sending
    lease_until REAL
);
CREATE INDEX IF NOT EXISTS queue_jobs_state ON queue_jobs (profile, state, position);
CREATE INDEX IF NOT EXISTS queue_jobs_task ON queue_jobs (profile, task_id);
CREATE TABLE IF NOT EXISTS queue_meta (
    profile TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (profile, key)
);
"""


_COLUMNS = (
    "id, batch, position, kind, prompt, mode, images, parent_job, parent_task, detail, line, state, "
    "task_id, cost, error, created, sent, finished, owner, lease_until"
)


# The rows `_job` can read, said in SQL: what `counts` counts. A damaged row counted as
# queued (or out) would keep `QueueRunner.run` waiting for a job nobody can take.
_READABLE = (
    "kind IN ('imagine','upscale','save') AND typeof(batch)='integer' "
    "AND typeof(position) IN ('integer','real') AND typeof(created) IN ('integer','real') "
    "AND CASE WHEN json_valid(images) THEN json_type(images) IN ('array','object','text') ELSE 0 END"
)


def _job(row: Sequence[Any]) -> Job | None:
    """A row as a Job; None for a row that cannot be read (a damaged store keeps the rest)."""
    try:
        images = tuple(str(i) for i in json.loads(row[6] or "[]"))
        return Job(
            id=int(row[0]),
            batch=int(row[1]),
            position=float(row[2]),
            kind=JobKind(row[3]),
            prompt=str(row[4]),
            mode=row[5],
            images=images,
            parent_job=row[7],
            parent_task=row[8],
            detail=str(row[9] or ""),
            line=row[10],
            state=JobState(row[11]),
            task_id=row[12],
            cost=row[13],
            error=str(row[14] or ""),
            created=float(row[15]),
            sent=row[16],
            finished=row[17],
            owner=str(row[18] or ""),
            lease_until=row[19],
        )
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


class JobQueue:
    """The queue's store. Every method commits before it returns; all are thread-safe."""

    def __init__(self, path: Path | str, *, busy_timeout: float = 10.0):
        self._lock = threading.Lock()
        self.path = Path(path) if str(path) != ":memory:" else None
        self.owner = this_process()
        try:
            self._db = self._open(str(path), busy_timeout)
            self.problem: str | None = None
        except (sqlite3.Error, OSError) as exc:
            # a queue only this process can see: it still runs, but nothing survives it
            self.problem = str(exc)
            self._db = self._open(":memory:", busy_timeout)

    @staticmethod
    def _open(path: str, busy_timeout: float) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- low level ------------------------------------------------------------------
    def _run(self, fn: Any, *args: Any) -> Any:
        with self._lock:
            try:
                return fn(self._db, *args)
            except sqlite3.Error as exc:
                raise QueueError(f"The queue at {self.path} cannot be used just now ({exc}).") from None

    def _write(self, fn: Any, *args: Any) -> Any:
        """Run `fn` in one write transaction (taken at once: another process waits)."""

        def tx(db: sqlite3.Connection, *a: Any) -> Any:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(db, *a)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        return self._run(tx, *args)

    # -- batches and jobs in --------------------------------------------------------
    def add(
        self,
        profile: str,
        name: str,
        jobs: Sequence[NewJob],
        *,
        source: str = "",
        cap: float | None = None,
        follow_ups: FollowUps | None = None,
        batch: int | None = None,
        front: bool = False,
    ) -> int:
        """Queue `jobs` in a new batch (or an existing `batch`), in order, at the end (or
        `front`: before every queued job). Returns the batch id. All or nothing."""
        now = time.time()

        def write(db: sqlite3.Connection) -> int:
            batch_id = batch
            if batch_id is None:
                cursor = db.execute(
                    "INSERT INTO queue_batches (profile, name, source, created, cap, follow_ups) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (profile, name, source, now, cap, (follow_ups or FollowUps()).to_json()),
                )
                batch_id = int(cursor.lastrowid or 0)
            self._insert(db, profile, batch_id, jobs, front=front, now=now)
            return batch_id

        return int(self._write(write))

    @staticmethod
    def _insert(
        db: sqlite3.Connection, profile: str, batch_id: int, jobs: Sequence[NewJob], *, front: bool, now: float
    ) -> None:
        if front:
            (low,) = db.execute(
                "SELECT COALESCE(MIN(position), 0) FROM queue_jobs WHERE profile=? AND state='queued'", (profile,)
            ).fetchone()
            start = float(low) - len(jobs) - 1
        else:
            (high,) = db.execute(
                "SELECT COALESCE(MAX(position), 0) FROM queue_jobs WHERE profile=?", (profile,)
            ).fetchone()
            start = float(high) + 1
        db.executemany(
            "INSERT INTO queue_jobs (profile, batch, position, kind, prompt, mode, images, parent_job, "
            "parent_task, detail, line, state, cost, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
            [
                (
                    profile,
                    batch_id,
                    start + i,
                    j.kind.value,
                    j.prompt,
                    j.mode,
                    json.dumps(list(j.images)),
                    j.parent_job,
                    j.parent_task,
                    j.detail,
                    j.line,
                    j.cost,
                    now,
                )
                for i, j in enumerate(jobs)
            ],
        )

    def finish(self, job_id: int, follow_ups: Sequence[NewJob] = ()) -> bool:
        """The job is done, and its follow-ups are queued at the front, in one commit (a
        crash between the two would lose them). False when another process got there
        first (the follow-ups are then its to queue)."""
        now = time.time()

        def write(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT profile, batch FROM queue_jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                return False
            changed = db.execute(
                "UPDATE queue_jobs SET state='done', finished=?, owner='', lease_until=NULL "
                "WHERE id=? AND state IN (?,?,?)",
                (now, job_id, *ACTIVE),
            ).rowcount
            if changed and follow_ups:
                self._insert(db, str(row[0]), int(row[1]), follow_ups, front=True, now=now)
            return bool(changed)

        return bool(self._write(write))

    def settle_unknown(self, job_id: int, task_id: str) -> bool:
        """An unknown job's task turned up at the provider: it was sent, once."""
        return self._set(job_id, "state='submitted', task_id=?, error=''", (task_id,), only=[JobState.UNKNOWN])

    def batch(self, batch_id: int) -> Batch | None:
        def read(db: sqlite3.Connection) -> Any:
            return db.execute(
                "SELECT id, name, source, created, cap, follow_ups FROM queue_batches WHERE id=?", (batch_id,)
            ).fetchone()

        row = self._run(read)
        return _batch(row) if row else None

    def batch_by_source(self, profile: str, source: str) -> Batch | None:
        """The latest batch made from this source (a prompt file's path and content)."""

        def read(db: sqlite3.Connection) -> Any:
            return db.execute(
                "SELECT id, name, source, created, cap, follow_ups FROM queue_batches "
                "WHERE profile=? AND source=? ORDER BY id DESC LIMIT 1",
                (profile, source),
            ).fetchone()

        row = self._run(read) if source else None
        return _batch(row) if row else None

    def batch_named(self, profile: str, name: str) -> Batch | None:
        def read(db: sqlite3.Connection) -> Any:
            return db.execute(
                "SELECT id, name, source, created, cap, follow_ups FROM queue_batches "
                "WHERE profile=? AND name=? ORDER BY id DESC LIMIT 1",
                (profile, name),
            ).fetchone()

        row = self._run(read)
        return _batch(row) if row else None

    # -- reads ----------------------------------------------------------------------
    def jobs(
        self,
        profile: str,
        *,
        batch: int | None = None,
        states: Iterable[JobState] | None = None,
        limit: int = 10_000,
    ) -> list[Job]:
        """Jobs in queue order: active ones first, then queued by position, then the rest
        newest first."""
        wanted = [s.value for s in states] if states is not None else [s.value for s in JobState]
        marks = ",".join("?" * len(wanted))

        def read(db: sqlite3.Connection) -> list[Any]:
            clause = "AND batch=?" if batch is not None else ""
            params: tuple[Any, ...] = (profile, *wanted) + ((batch,) if batch is not None else ())
            return db.execute(
                f"SELECT {_COLUMNS} FROM queue_jobs WHERE profile=? AND state IN ({marks}) {clause} "
                "ORDER BY CASE WHEN state IN ('sending','submitted','running','unknown') THEN 0 "
                "WHEN state='queued' THEN 1 ELSE 2 END, "
                "CASE WHEN state='queued' THEN position ELSE -COALESCE(finished, sent, created) END, id "
                "LIMIT ?",
                (*params, limit),
            ).fetchall()

        rows = self._run(read)
        return [job for job in (_job(r) for r in rows) if job is not None]

    def job(self, job_id: int) -> Job | None:
        def read(db: sqlite3.Connection) -> Any:
            return db.execute(f"SELECT {_COLUMNS} FROM queue_jobs WHERE id=?", (job_id,)).fetchone()

        row = self._run(read)
        return _job(row) if row else None

    def job_for_task(self, profile: str, task_id: str) -> Job | None:
        def read(db: sqlite3.Connection) -> Any:
            return db.execute(
                f"SELECT {_COLUMNS} FROM queue_jobs WHERE profile=? AND task_id=? ORDER BY id DESC LIMIT 1",
                (profile, task_id),
            ).fetchone()

        row = self._run(read)
        return _job(row) if row else None

    def counts(self, profile: str, *, batch: int | None = None) -> dict[JobState, int]:
        def read(db: sqlite3.Connection) -> list[Any]:
            clause = "AND batch=?" if batch is not None else ""
            params = (profile,) + ((batch,) if batch is not None else ())
            return db.execute(
                f"SELECT state, COUNT(*) FROM queue_jobs WHERE profile=? {clause} AND {_READABLE} GROUP BY state",
                params,
            ).fetchall()

        counts = dict.fromkeys(JobState, 0)
        for state, n in self._run(read):
            if state in JobState._value2member_map_:
                counts[JobState(state)] = int(n)
        return counts

    def unread_rows(self, profile: str) -> int:
        """Rows that cannot be read as jobs (a damaged store): shown, never acted on."""

        def read(db: sqlite3.Connection) -> list[Any]:
            return db.execute(f"SELECT {_COLUMNS} FROM queue_jobs WHERE profile=?", (profile,)).fetchall()

        return sum(1 for row in self._run(read) if _job(row) is None)

    def durations(self, profile: str, *, last: int = 20) -> list[float]:
        """How long the latest finished paid jobs took from send to done (for ETAs)."""

        def read(db: sqlite3.Connection) -> list[Any]:
            return db.execute(
                "SELECT finished - sent FROM queue_jobs WHERE profile=? AND state='done' AND kind!='save' "
                "AND sent IS NOT NULL AND finished IS NOT NULL ORDER BY finished DESC LIMIT ?",
                (profile, last),
            ).fetchall()

        return [float(d) for (d,) in self._run(read) if d is not None and d >= 0]

    # -- money ----------------------------------------------------------------------
    @staticmethod
    def _spent(db: sqlite3.Connection, profile: str, *, batch: int | None = None, since: float = 0.0) -> float:
        clause = "AND batch=?" if batch is not None else ""
        params = (profile, since) + ((batch,) if batch is not None else ())
        (done,) = db.execute(
            "SELECT COALESCE(SUM(cost), 0) FROM queue_jobs WHERE profile=? AND state='done' "
            f"AND finished >= ? {clause}",
            params,
        ).fetchone()
        return float(done)

    @staticmethod
    def _committed(db: sqlite3.Connection, profile: str, *, batch: int | None = None) -> float:
        clause = "AND batch=?" if batch is not None else ""
        params = (profile, *ACTIVE) + ((batch,) if batch is not None else ())
        (active,) = db.execute(
            f"SELECT COALESCE(SUM(cost), 0) FROM queue_jobs WHERE profile=? AND state IN (?,?,?) {clause}", params
        ).fetchone()
        return float(active)

    def spend(self, profile: str, daily_cap: float | None) -> Spend:
        def read(db: sqlite3.Connection) -> Spend:
            return Spend(self._spent(db, profile, since=_midnight()), self._committed(db, profile), daily_cap)

        return self._run(read)  # type: ignore[no-any-return]

    def batch_spend(self, profile: str, batch: int) -> tuple[float, float]:
        """(spent, committed) by one batch."""

        def read(db: sqlite3.Connection) -> tuple[float, float]:
            return self._spent(db, profile, batch=batch), self._committed(db, profile, batch=batch)

        return self._run(read)  # type: ignore[no-any-return]

    # -- taking a job ---------------------------------------------------------------
    def claim(
        self,
        profile: str,
        *,
        limit: int,
        busy_elsewhere: int = 0,
        daily_cap: float | None = None,
        lease: float = 300.0,
        kinds: Iterable[JobKind] = (JobKind.IMAGINE, JobKind.UPSCALE),
        batch: int | None = None,
        amount: Any = str,
    ) -> Claim:
        """Take the next queued job of `kinds` that fits: marked ``sending``, owned by this
        process until `lease` seconds from now, committed before this returns.

        Paid jobs need a free slot (`limit` less the queue's active jobs less
        `busy_elsewhere`, the provider's other unfinished tasks; `batch`: only that batch's) and room under the daily
        cap and their batch's cap, counting what running jobs have committed. A job that
        would pass its batch's cap is skipped (the batch is held, the others go on); one
        that would pass the daily cap holds the queue. `amount` formats money for the
        reasons it gives."""
        wanted = [k.value for k in kinds]
        marks = ",".join("?" * len(wanted))
        now = time.time()

        def write(db: sqlite3.Connection) -> Claim:
            claim = Claim()
            if self._paused(db, profile):
                return claim
            (active,) = db.execute(
                "SELECT COUNT(*) FROM queue_jobs WHERE profile=? AND state IN (?,?,?) AND kind!='save'",
                (profile, *ACTIVE),
            ).fetchone()
            free = limit - int(active) - busy_elsewhere
            only = "AND batch=?" if batch is not None else ""
            # every queued job, read as it is reached: a capped batch longer than any fixed
            # window at the head must not hide the batches behind it
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM queue_jobs WHERE profile=? AND state='queued' AND kind IN ({marks}) "
                f"{only} ORDER BY position, id",
                (profile, *wanted) + ((batch,) if batch is not None else ()),
            )
            today = self._spent(db, profile, since=_midnight()) + self._committed(db, profile)
            capped_batches: set[int] = set()
            for row in rows:
                if row[1] in capped_batches:  # cheap: the rest of a held batch is not read
                    continue
                job = _job(row)
                if job is None:
                    continue
                cost = job.cost or 0.0
                if job.kind.paid:
                    if free <= 0:
                        return claim
                    if daily_cap is not None and today + cost > daily_cap:
                        claim.held = (
                            f"Held: the next job ({amount(cost)}) would pass today's cap "
                            f"({amount(today)} spent or running of {amount(daily_cap)})."
                        )
                        return claim
                    if job.batch in capped_batches:
                        continue
                    capped = db.execute("SELECT cap FROM queue_batches WHERE id=?", (job.batch,)).fetchone()
                    cap = capped[0] if capped else None
                    if cap is not None:
                        used = self._spent(db, profile, batch=job.batch) + self._committed(db, profile, batch=job.batch)
                        if used + cost > cap:
                            capped_batches.add(job.batch)
                            claim.capped.append(job.id)
                            claim.held = (
                                f"Held: batch #{job.batch}'s next job ({amount(cost)}) would pass its cap "
                                f"({amount(used)} spent or running of {amount(cap)})."
                            )
                            continue
                changed = db.execute(
                    "UPDATE queue_jobs SET state='sending', owner=?, lease_until=?, sent=?, error='' "
                    "WHERE id=? AND state='queued'",
                    (self.owner, now + lease, now, job.id),
                ).rowcount
                if changed:
                    claim.job = self._get(db, job.id)
                    claim.held = ""
                    return claim
            return claim

        return self._write(write)  # type: ignore[no-any-return]

    @staticmethod
    def _get(db: sqlite3.Connection, job_id: int) -> Job | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM queue_jobs WHERE id=?", (job_id,)).fetchone()
        return _job(row) if row else None

    def orphaned(self, profile: str, *, grace: float) -> list[Job]:
        """Jobs left ``sending`` by a process that is gone (or whose lease ran out)."""
        now = time.time()
        jobs = self.jobs(profile, states=[JobState.SENDING])
        # on this machine a process that no longer runs; from elsewhere, a lease run out
        return [j for j in jobs if j.owner != self.owner and owner_gone(j.owner, (j.lease_until or 0) + grace, now)]

    # -- state changes --------------------------------------------------------------
    def _set(self, job_id: int, sql: str, params: tuple[Any, ...], *, only: Iterable[JobState] = ()) -> bool:
        allowed = [s.value for s in only]
        guard = f" AND state IN ({','.join('?' * len(allowed))})" if allowed else ""

        def write(db: sqlite3.Connection) -> int:
            return int(
                db.execute(f"UPDATE queue_jobs SET {sql} WHERE id=?{guard}", (*params, job_id, *allowed)).rowcount
            )

        return bool(self._run(write))

    def submitted(self, job_id: int, task_id: str) -> None:
        """The provider answered with a task: the job holds a slot until it finishes."""
        self._set(job_id, "state='submitted', task_id=?, lease_until=NULL", (task_id,), only=[JobState.SENDING])

    def running(self, job_id: int) -> None:
        self._set(job_id, "state='running'", (), only=[JobState.SUBMITTED])

    def failed(self, job_id: int, reason: str) -> bool:
        return self._set(
            job_id,
            "state='failed', error=?, finished=?, owner='', lease_until=NULL",
            (reason, time.time()),
            only=[*ACTIVE_STATES, JobState.QUEUED],
        )

    def unknown(self, job_id: int, task_id: str | None, reason: str) -> None:
        """The request may have left and no answer came: a person decides (retry or drop)."""
        self._set(
            job_id,
            "state='unknown', task_id=?, error=?, owner='', lease_until=NULL",
            (task_id, reason),
            only=[JobState.SENDING],
        )

    def requeue(self, job_id: int, reason: str = "") -> None:
        """Back to the head of the queue: the request was refused outright (nothing made,
        nothing paid: queue full, rate limited) or never left."""

        def write(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT profile FROM queue_jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                return
            (low,) = db.execute(
                "SELECT COALESCE(MIN(position), 0) FROM queue_jobs WHERE profile=? AND state='queued'", (row[0],)
            ).fetchone()
            db.execute(
                "UPDATE queue_jobs SET state='queued', position=?, owner='', lease_until=NULL, sent=NULL, "
                "task_id=NULL, error=? WHERE id=? AND state='sending'",
                (float(low) - 1, reason, job_id),
            )

        self._write(write)

    def cancel(self, job_id: int, reason: str = "cancelled") -> bool:
        """A queued job (or one a person gave up on) is cancelled here; True when it was."""
        return self._set(
            job_id,
            "state='cancelled', error=?, finished=?, owner='', lease_until=NULL",
            (reason, time.time()),
            only=[JobState.QUEUED, JobState.UNKNOWN, JobState.SUBMITTED, JobState.RUNNING],
        )

    def retry(self, job_id: int) -> bool:
        """A failed, cancelled or unknown job queued again, at the end (a person's choice,
        never the queue's)."""

        def write(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT profile FROM queue_jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                return 0
            (high,) = db.execute(
                "SELECT COALESCE(MAX(position), 0) FROM queue_jobs WHERE profile=?", (row[0],)
            ).fetchone()
            return int(
                db.execute(
                    "UPDATE queue_jobs SET state='queued', position=?, task_id=NULL, error='', sent=NULL, "
                    "finished=NULL, owner='', lease_until=NULL "
                    "WHERE id=? AND state IN ('failed','cancelled','unknown')",
                    (float(high) + 1, job_id),
                ).rowcount
            )

        return bool(self._write(write))

    def move(self, job_id: int, steps: int) -> bool:
        """Move a queued job up (negative) or down among the queued jobs."""

        def write(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT profile, position, state FROM queue_jobs WHERE id=?", (job_id,)).fetchone()
            if row is None or row[2] != JobState.QUEUED:
                return False
            order = [
                (int(i), float(p))
                for i, p in db.execute(
                    "SELECT id, position FROM queue_jobs WHERE profile=? AND state='queued' ORDER BY position, id",
                    (row[0],),
                )
            ]
            ids = [i for i, _ in order]
            at = ids.index(job_id)
            to = max(0, min(len(ids) - 1, at + steps))
            if to == at:
                return False
            ids.insert(to, ids.pop(at))
            positions = sorted(p for _, p in order)
            # keep positions distinct so the order is stable whatever was there
            for n in range(1, len(positions)):
                if positions[n] <= positions[n - 1]:
                    positions[n] = positions[n - 1] + 1
            db.executemany("UPDATE queue_jobs SET position=? WHERE id=?", list(zip(positions, ids, strict=True)))
            return True

        return bool(self._write(write))

    def renew(self, job_id: int, lease: float) -> None:
        self._set(job_id, "lease_until=?", (time.time() + lease,), only=[JobState.SENDING])

    def forget_settled(self, profile: str, *, older_than: float) -> int:
        """Drop settled jobs finished more than `older_than` seconds ago (the history keeps
        their tasks)."""

        def write(db: sqlite3.Connection) -> int:
            return int(
                db.execute(
                    "DELETE FROM queue_jobs WHERE profile=? AND state IN ('done','failed','cancelled') "
                    "AND finished < ?",
                    (profile, time.time() - older_than),
                ).rowcount
            )

        return int(self._write(write))

    # -- pause ----------------------------------------------------------------------
    @staticmethod
    def _paused(db: sqlite3.Connection, profile: str) -> bool:
        row = db.execute("SELECT value FROM queue_meta WHERE profile=? AND key='paused'", (profile,)).fetchone()
        return bool(row and row[0])

    def paused(self, profile: str) -> str | None:
        """Why the queue is paused ("" for no reason given), or None when it runs."""

        def read(db: sqlite3.Connection) -> Any:
            return db.execute("SELECT value FROM queue_meta WHERE profile=? AND key='paused'", (profile,)).fetchone()

        row = self._run(read)
        if not row or not row[0]:
            return None
        return "" if row[0] == "1" else str(row[0])

    def pause(self, profile: str, reason: str = "") -> None:
        """Stop taking jobs (those out keep going); the reason is shown until resumed."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO queue_meta (profile, key, value) VALUES (?, 'paused', ?) "
                "ON CONFLICT (profile, key) DO UPDATE SET value=excluded.value",
                (profile, reason or "1"),
            )

        self._write(write)

    def resume(self, profile: str) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM queue_meta WHERE profile=? AND key='paused'", (profile,))

        self._write(write)


def _batch(row: Sequence[Any]) -> Batch:
    return Batch(
        id=int(row[0]),
        name=str(row[1]),
        source=str(row[2] or ""),
        created=float(row[3]),
        cap=row[4],
        follow_ups=FollowUps.from_json(str(row[5] or "{}")),
    )


def _midnight() -> float:
    """Today's start, local time: where a daily cap starts again."""
    now = datetime.now().astimezone()
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


__all__ = [
    "ACTIVE",
    "ACTIVE_STATES",
    "Batch",
    "Claim",
    "FollowUps",
    "Job",
    "JobKind",
    "JobQueue",
    "JobState",
    "NewJob",
    "QueueError",
    "Spend",
]
