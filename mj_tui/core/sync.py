"""Bringing the provider's history into the local store (the library searches the store).

OhMyGPT keeps a paged history of the key's tasks (``query-mj-tasks``, newest first, 20 a
page at most). A sync walks it from page 1, one request at a time (a read: retried with the
HTTP layer's backoff), storing each page, and stops at a page that holds only tasks the
store already has, finished, once an earlier walk has reached the end. A walk that is cut
short (a fault, Ctrl+C, ``max_pages``) leaves a mark: how many tasks lay below the deepest
page it read. New tasks arrive at the top, so that count from the bottom stays true; the
next sync reads the new pages on top and then jumps past what the cut walk already stored.

midjourney-proxy keeps no history an API key can page: the local store *is* the history,
and a sync asks about the unfinished tasks in it (``list-by-condition``, ids in batches).

Nothing here sends a paid request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from .history import History
from .models import Task
from .providers import Provider

#: tasks per page asked of OhMyGPT (its largest page)
SYNC_PAGE_SIZE = 20
#: unfinished ids asked about per list-by-condition request (midjourney-proxy)
REFRESH_BATCH = 50
# meta keys (per namespace)
DONE_KEY = "sync_done"  # "1" once a walk reached the last page
REMAINING_KEY = "sync_remaining"  # tasks below the deepest page a cut walk read


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync is, posted after each request."""

    #: requests answered so far (pages on OhMyGPT, batches on midjourney-proxy)
    pages_read: int
    #: tasks written to the store so far
    tasks_stored: int
    #: of those, tasks the store did not have before
    new: int
    #: the provider's total (OhMyGPT), or the unfinished tasks asked about; None if unknown
    total: int | None


@dataclass(frozen=True)
class SyncResult(SyncProgress):
    #: the walk reached what the store already had (or the end): nothing is left to read
    complete: bool = True
    #: tasks still unfinished after the sync
    unfinished: int = 0


OnProgress = Callable[[SyncProgress], Awaitable[None] | None]
Store = Callable[[Sequence[Task]], list[Task]]


async def _post(on_progress: OnProgress | None, progress: SyncProgress) -> None:
    if on_progress is None:
        return
    maybe = on_progress(progress)
    if asyncio.iscoroutine(maybe):
        await maybe


def _int_meta(history: History, namespace: str, key: str) -> int | None:
    value = history.meta(namespace, key)
    return int(value) if value and value.isdigit() and len(value) < 12 else None


async def walk_server_history(
    provider: Provider,
    history: History,
    namespace: str,
    store: Store,
    *,
    on_progress: OnProgress | None = None,
    max_pages: int | None = None,
) -> SyncResult:
    """OhMyGPT: read the server's pages newest first into the store (see the module doc)."""
    size = SYNC_PAGE_SIZE
    done = history.meta(namespace, DONE_KEY) == "1"
    resume_below = _int_meta(history, namespace, REMAINING_KEY)
    deepest = resume_below
    page = 1
    pages_read = stored = new = 0
    total: int | None = None
    complete = False
    previous: list[str] = []
    while max_pages is None or pages_read < max_pages:
        fresh = await provider.list_page(page, size)
        pages_read += 1
        total = fresh.total
        ids = [t.id for t in fresh.tasks]
        if ids and ids == previous:
            break  # a server that answers every page with the same tasks: nothing more to read
        previous = ids
        known = history.known(namespace, ids)
        only_known = bool(ids) and all(i in known and known[i].is_terminal for i in ids)
        store(fresh.tasks)
        stored += len(ids)
        new += sum(1 for i in dict.fromkeys(ids) if i not in known)
        last = not fresh.tasks or page >= fresh.pages
        below = max(0, fresh.total - page * size)
        await _post(on_progress, SyncProgress(pages_read, stored, new, total))
        if last:
            complete = True
            break
        if only_known and resume_below is not None:
            # an earlier walk was cut short: skip what it already stored
            target = max(0, fresh.total - resume_below) // size + 1
            resume_below = None
            if target > page + 1:
                page = target
                continue
        if only_known and done and resume_below is None and (deepest is None or below <= deepest):
            complete = True
            break
        if deepest is None or below < deepest:
            deepest = below
            history.set_meta(namespace, REMAINING_KEY, str(below))
        page += 1
    if complete:
        history.set_meta(namespace, DONE_KEY, "1")
        history.set_meta(namespace, REMAINING_KEY, "")
    unfinished = len(history.in_flight(namespace))
    return SyncResult(pages_read, stored, new, total, complete=complete, unfinished=unfinished)


async def refresh_local_history(
    provider: Provider,
    history: History,
    namespace: str,
    store: Store,
    *,
    on_progress: OnProgress | None = None,
    max_pages: int | None = None,
) -> SyncResult:
    """midjourney-proxy: ask about every unfinished task in the store, a batch at a time."""
    ids = [t.id for t in history.in_flight(namespace) if not t.id.startswith("unconfirmed-")]
    pages_read = stored = 0
    complete = True
    for start in range(0, len(ids), REFRESH_BATCH):
        if max_pages is not None and pages_read >= max_pages:
            complete = False
            break
        batch = ids[start : start + REFRESH_BATCH]
        wanted = set(batch)
        # an answer about a task not asked for is not filed (a confused gateway)
        fresh = [t for t in await provider.fetch_many(batch) if t.id in wanted]
        pages_read += 1
        store(fresh)
        stored += len(fresh)
        await _post(on_progress, SyncProgress(pages_read, stored, 0, len(ids)))
    unfinished = len(history.in_flight(namespace))
    return SyncResult(pages_read, stored, 0, len(ids), complete=complete, unfinished=unfinished)


__all__ = ["SyncProgress", "SyncResult", "refresh_local_history", "walk_server_history"]
