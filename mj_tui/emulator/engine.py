"""The simulated Midjourney shared by both dialects.

State is derived from a clock on every read: a task stores when it was
submitted, when it got a worker slot and when it ends, and `view()` turns
"now" into NOT_START / SUBMITTED / IN_PROGRESS / SUCCESS / FAILURE. Nothing
runs in the background, so a frozen clock makes every state observable.

The engine speaks no wire format. Business-rule failures raise EmulatorError
with a `kind`; ohmygpt.py and mjproxy.py turn kinds into their envelopes.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import OrderedDict
from typing import TypedDict, Unpack

from PIL import Image

from . import actions, art, video
from .buttons import DESCRIBE, GRID, IMAGE_KINDS, SHORTEN, VIDEO_GRID, Button, buttons_for, version_of
from .config import Account, EmulatorConfig
from .model import (
    MJPROXY,
    OHMYGPT,
    ClientFields,
    CreateFields,
    EmulatorError,
    Recipe,
    SubmitFields,
    Submitted,
    Task,
    View,
    find_word,
    new_hash,
)

# Seed 004 price table (tokens), FAST / NORMAL. REROLL is priced as IMAGINE.
PRICES = {
    "IMAGINE": (14000, 7000),
    "REROLL": (14000, 7000),
    "UPSCALE": (3500, 1750),
    "VARIATION": (14000, 7000),
    "ZOOM": (14000, 7000),
    "PAN": (14000, 7000),
    "DESCRIBE": (3500, 1750),
    "BLEND": (14000, 7000),
    "SHORTEN": (3500, 1750),  # proxy only; not in seed 004, priced like DESCRIBE
    # proxy only, and priced by no source: a video as two grids, an edit as one
    "VIDEO": (28000, 14000),
    "EDIT": (14000, 7000),
    "RETEXTURE": (14000, 7000),
}
SLOW_MODES = {"NORMAL", "RELAX"}
PROGRESS_STEPS = (15, 31, 46, 62, 78, 93)  # Discord-like steps while rendering; SUBMITTED is 0%
ART_CACHE_SIZE = 64
CANCELLED = "取消任务"  # the failReason midjourney-proxy gives a cancelled task ("task cancelled")
EPS = 1e-6  # float slack when a test advances the clock by exactly a job's length


class LedgerEntry(TypedDict):
    """One charge, as /_emulator/state lists it."""

    key: str
    dialect: str
    taskId: str
    action: str
    mode: str
    amount: float
    balance: float
    time: float


class Clock:
    """Emulated time: wall clock plus an offset; can be frozen and advanced by tests."""

    def __init__(self, start_time: float | None = None) -> None:
        self._offset = 0.0
        # a given start instant means a frozen clock there: seeded history, ids and
        # pictures are then the same on every run (snapshots, screenshots)
        self._frozen_at: float | None = start_time
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            base = time.time() if self._frozen_at is None else self._frozen_at
            return base + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += seconds

    def freeze(self, frozen: bool = True) -> None:
        with self._lock:
            if frozen and self._frozen_at is None:
                self._frozen_at = time.time()
            elif not frozen and self._frozen_at is not None:
                # Resume from the frozen instant rather than jumping over the pause.
                self._offset += self._frozen_at - time.time()
                self._frozen_at = None


class Engine:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = Clock(self.config.start_time)
        self.lock = threading.RLock()
        self.rng = random.Random(self.config.random_seed)
        self.accounts: dict[str, Account] = dict(self.config.accounts)
        self.tasks: dict[tuple[str, str], Task] = {}
        self.by_hash: dict[str, Task] = {}
        self.uploads: dict[str, bytes] = {}
        self.ledger: list[LedgerEntry] = []
        self._order: dict[tuple[str, str], list[str]] = {}  # (owner, dialect) -> ids, oldest first
        self._active: dict[tuple[str, str], list[Task]] = {}  # unfinished tasks
        self._slots: dict[str, list[float]] = {}  # proxy: per-owner worker free times
        self._pending: list[Task] = []  # not yet charged
        self.hooked: list[Task] = []  # submitted with a callback URL, not yet watched (hooks.py)
        self._next_int = 1
        self._art: OrderedDict[str, bytes] = OrderedDict()
        self._art_lock = threading.Lock()
        if self.config.seed_history > 0:
            from .history import populate

            populate(self, self.config.demo_key, self.config.seed_history)

    def seed_history(self, owner: str, count: int) -> None:
        """`count` more finished tasks per dialect for `owner`, spread over past days (the
        account's list stays newest first whatever it held before)."""
        from .history import populate

        with self.lock:
            populate(self, owner, count)
            for dialect in (OHMYGPT, MJPROXY):
                order = self._order.get((owner, dialect))
                if order:
                    at = {tid: self.tasks[(dialect, tid)].submit_at for tid in order}
                    order.sort(key=at.__getitem__)

    # ------------------------------------------------------------ accounts & ledger

    def account(self, key: str | None) -> Account | None:
        if not key:
            return None
        with self.lock:
            acct = self.accounts.get(key)
            if acct is None and self.config.open_access:
                acct = self.accounts[key] = Account()
            return acct

    def settle(self) -> None:
        """Charge every task that has succeeded since the last call."""
        now = self.clock.now()
        with self.lock:
            keep = []
            for task in self._pending:
                if self.finished(task, now):
                    task.charged = True
                    if not task.failure:  # failed jobs are not billed
                        acct = self.accounts[task.owner]
                        acct.balance -= task.price
                        self.ledger.append(
                            {
                                "key": task.owner,
                                "dialect": task.dialect,
                                "taskId": task.id,
                                "action": task.action,
                                "mode": task.mode,
                                "amount": task.price,
                                "balance": acct.balance,
                                "time": task.end_at,
                            }
                        )
                else:
                    keep.append(task)
            self._pending = keep

    def available(self, owner: str) -> float:
        self.settle()
        reserved = sum(t.price for t in self._pending if t.owner == owner)
        return self.accounts[owner].balance - reserved

    def price(self, action: str, mode: str) -> float:
        fast, slow = PRICES[action]
        if mode == "TURBO":
            return fast * 2
        return slow if mode in SLOW_MODES else fast

    # ------------------------------------------------------------ reading

    def _moving(self, task: Task, now: float) -> bool:
        """A frozen clock stops the world: nothing submitted at the frozen instant has
        progressed until the clock is advanced. Unfrozen, a read always comes "after"
        the submit, so job_seconds=0 means SUCCESS on the first read."""
        return not self.clock.frozen or now > task.submit_at + EPS

    def finished(self, task: Task, now: float) -> bool:
        if task.cancelled_at is not None:
            return True
        return task.start_at is not None and self._moving(task, now) and now >= task.end_at - EPS

    def view(self, task: Task, now: float | None = None) -> View:
        if task.cancelled_at is not None:  # started: it had reached Discord when cancelled
            started = task.start_at is not None and task.cancelled_at >= task.submitted_at
            return View("FAILURE", 0, started, True)
        if task.start_at is None:
            return View("MODAL", 0, False, False)
        now = self.clock.now() if now is None else now
        if not self._moving(task, now):
            return View("NOT_START", 0, False, False)
        if now >= task.end_at - EPS:
            return View("FAILURE" if task.failure else "SUCCESS", 0 if task.failure else 100, True, True)
        if now < task.submitted_at:
            return View("NOT_START", 0, False, False)
        if now < task.running_at:
            return View("SUBMITTED", 0, True, False)
        frac = (now - task.running_at) / max(1e-9, task.end_at - task.running_at)
        step = PROGRESS_STEPS[min(len(PROGRESS_STEPS) - 1, int(frac * len(PROGRESS_STEPS)))]
        return View("IN_PROGRESS", step, True, False)

    def get(self, owner: str, dialect: str, task_id: object) -> Task | None:
        task = self.tasks.get((dialect, str(task_id).strip()))
        return task if task is not None and task.owner == owner else None

    def page(self, owner: str, dialect: str, page: int, size: int) -> tuple[int, list[Task]]:
        """Newest first."""
        ids = self._order.get((owner, dialect), [])
        end = len(ids) - (page - 1) * size
        chosen = ids[max(0, end - size) : max(0, end)]
        return len(ids), [self.tasks[(dialect, i)] for i in reversed(chosen)]

    def count(self, owner: str, dialect: str) -> int:
        """How many tasks the account has made in that dialect."""
        return len(self._order.get((owner, dialect), []))

    def buttons(self, task: Task) -> list[Button]:
        return buttons_for(
            task.kind, task.hash, version=version_of(task.prompt), video=task.dialect == MJPROXY, batch=task.batch
        )

    def has_image(self, task: Task) -> bool:
        return task.kind in IMAGE_KINDS

    def unfinished(self, owner: str, dialect: str) -> list[Task]:
        now = self.clock.now()
        key = (owner, dialect)
        live = [t for t in self._active.get(key, []) if not self.finished(t, now)]
        self._active[key] = live
        return live

    # ------------------------------------------------------------ creating

    def new_id(self, dialect: str, at: float) -> str:
        if dialect == OHMYGPT:
            self._next_int += 1
            return str(self._next_int - 1)
        while True:  # midjourney-proxy: <ms epoch><3 random digits>
            tid = f"{int(at * 1000)}{self.rng.randrange(1000):03d}"
            if (dialect, tid) not in self.tasks:
                return tid

    def add(self, task: Task, *, active: bool = True) -> Task:
        self.tasks[(task.dialect, task.id)] = task
        self.by_hash[task.hash] = task
        self._order.setdefault((task.owner, task.dialect), []).append(task.id)
        if active:
            self._active.setdefault((task.owner, task.dialect), []).append(task)
        if not task.charged:
            self._pending.append(task)
        if task.webhook:
            self.hooked.append(task)
        return task

    def check_prompt(self, prompt: str) -> None:
        word = find_word(prompt, self.config.banned_words)
        if word:
            raise EmulatorError(
                "banned", f"Banned prompt: the prompt contains the banned word '{word}'", word=word, prompt=prompt
            )

    def moderation(self, prompt: str) -> str | None:
        word = find_word(prompt, self.config.moderated_words)
        if word is None:
            return None
        return (
            "[Banned prompt detected] It appears your prompt may contain content that goes against "
            f"our community standards: the word `{word}` is not allowed."
        )

    def admit(self, owner: str, dialect: str, price: float, *, queue: bool = True) -> tuple[bool, int]:
        """Queue and balance checks before a job is accepted. Returns (queued, ahead)."""
        queued, ahead = False, 0
        if queue and dialect == OHMYGPT:
            acct = self.accounts[owner]
            limit = acct.queue_limit if acct.queue_limit is not None else self.config.queue_limit
            if len(self.unfinished(owner, dialect)) >= limit:
                raise EmulatorError(
                    "queue_limit",
                    f"Too many unfinished tasks: the limit is {limit} unfinished "
                    "Midjourney tasks per account; wait until one finishes",
                    limit=limit,
                )
        elif queue:
            # FIFO over N workers: beyond N jobs in flight, the rest wait (MODAL ones don't count).
            in_flight = sum(1 for t in self.unfinished(owner, dialect) if t.start_at is not None)
            workers = max(1, self.config.proxy_concurrency)
            if in_flight >= workers:
                ahead = in_flight - workers
                if ahead >= self.config.proxy_queue_size:
                    raise EmulatorError("queue_full", "Queue full: try again later", size=self.config.proxy_queue_size)
                queued = True
        available = self.available(owner)
        if price > available:
            raise EmulatorError(
                "balance",
                f"Insufficient balance: this task costs {price:.0f} tokens but only "
                f"{max(0.0, available):.2f} are available",
                price=price,
                available=available,
            )
        return queued, ahead

    def _worker_slots(self, owner: str) -> list[float]:
        slots = self._slots.setdefault(owner, [])
        want = max(1, self.config.proxy_concurrency)
        if len(slots) < want:
            slots.extend([0.0] * (want - len(slots)))
        elif len(slots) > want:
            del slots[: len(slots) - want]
        return slots

    def schedule(self, task: Task) -> None:
        """Give the task a worker: OhMyGPT starts at once, the proxy is FIFO over N workers."""
        now = self.clock.now()
        task.duration = max(0.0, float(self.config.job_seconds))
        if task.dialect == OHMYGPT:
            task.start_at = now
            return
        slots = self._worker_slots(task.owner)
        i = min(range(len(slots)), key=slots.__getitem__)
        task.start_at = max(now, slots[i])
        slots[i] = task.end_at

    def create(
        self,
        owner: str,
        dialect: str,
        *,
        action: str,
        kind: str,
        prompt: str,
        mode: str,
        recipe: Recipe,
        family: float,
        parent: Task | None = None,
        custom_id: str = "",
        modal: str | None = None,
        **extra: Unpack[CreateFields],
    ) -> Task:
        now = self.clock.now()
        tid = self.new_id(dialect, now)
        task = Task(
            id=tid,
            dialect=dialect,
            owner=owner,
            action=action,
            kind=kind,
            prompt=prompt,
            mode=mode,
            submit_at=now,
            hash=new_hash(dialect, tid, self.config.random_seed),
            recipe=recipe,
            family=family % 1.0,
            parent_id=parent.id if parent else None,
            custom_id=custom_id,
            modal=modal,
            price=self.price(action, mode),
            charged=False,
            **extra,
        )
        if modal is None:
            self.schedule(task)
        return self.add(task)

    def cancel(self, owner: str, dialect: str, task_id: object) -> Task | None:
        """Stop an unfinished task (queued, running or waiting for its dialog): it becomes a
        FAILURE now, is not billed, and its worker is free for the next job. A finished or
        unknown task is left alone (None)."""
        task = self.get(owner, dialect, task_id)
        now = self.clock.now()
        if task is None or task.cancelled_at is not None or self.view(task, now).finished:
            return None
        old_end = task.end_at if task.start_at is not None else None
        task.cancelled_at = now
        task.failure = CANCELLED
        task.modal = None
        if old_end is not None and dialect == MJPROXY:
            # the worker it held is free from now on; jobs already queued behind it keep
            # their times (they were promised a start and keep it)
            slots = self._worker_slots(owner)
            for i, free_at in enumerate(slots):
                if abs(free_at - old_end) < EPS:
                    slots[i] = now
                    break
        return task

    # ------------------------------------------------------------ images

    def render_png(self, task: Task) -> bytes:
        """PNG bytes of a task's image, rendered on first request and kept in a small LRU."""
        with self._art_lock:
            data = self._art.get(task.id + task.dialect)
            if data is not None:
                self._art.move_to_end(task.id + task.dialect)
                return data
        data = art.to_png(self._render(task))
        with self._art_lock:
            self._art[task.id + task.dialect] = data
            while len(self._art) > ART_CACHE_SIZE:
                self._art.popitem(last=False)
        return data

    def _parent_image(self, task: Task) -> Image.Image:
        if task.parent_id is None:
            raise ValueError(f"task {task.id} has no parent to render from")
        return art.from_png(self.render_png(self.tasks[(task.dialect, task.parent_id)]))

    def _child_size(self, img: Image.Image) -> tuple[int, int]:
        return art.grid_dims((img.width, img.height), self.config.grid_size)

    def _render(self, task: Task) -> Image.Image:
        recipe = task.recipe
        match recipe:
            case ("grid", prompt):
                size = art.grid_dims(art.parse_aspect(prompt), self.config.grid_size)
                return art.grid(size, task.family, f"{prompt}|{task.hash}")
            case ("blend", colours, aspect):
                return art.blend_grid(colours, art.grid_dims(aspect, self.config.grid_size), task.hash)
            case ("video", first, _):  # a video's picture is its first frame
                return art.from_png(first).convert("RGB")
            case ("edit", source, retexture):
                img = art.from_png(source)
                size = art.grid_dims((img.width, img.height), self.config.grid_size)
                hue = art.hue_of(art.image_colour(source)) + (0.5 if retexture else 0.0)
                return art.grid(size, hue, task.hash, spread=0.04)
        parent = self._parent_image(task)
        match recipe:
            case ("crop", n):
                return art.quadrant(parent, n)
            case ("upscale", creative):
                return art.upscale(parent, creative)
            case ("vary", *spread):  # a new grid in the parent's palette family
                return art.grid(self._child_size(parent), task.family, task.hash, spread=spread[0] if spread else 0.08)
            case ("zoom", scale):
                return art.zoom_grid(parent, self._child_size(parent), scale, task.hash)
            case ("pan", direction):
                return art.pan_grid(parent, self._child_size(parent), direction, task.hash)
            case ("inpaint", bytes() as mask):
                return art.inpaint_grid(parent, art.from_png(mask), self._child_size(parent), task.hash)
        raise ValueError(f"no image for recipe {recipe[0]}")

    def render_video(self, task: Task, n: int) -> bytes:
        """Video `n` (0-based) of a video task, in video.FORMAT; kept in the same LRU."""
        assert task.recipe[0] == "video"
        _, first, offset = task.recipe
        key = f"{task.id}{task.dialect}#v{n}"
        with self._art_lock:
            data = self._art.get(key)
            if data is not None:
                return data
        data = video.encode(video.frames(art.from_png(first), offset + n, task.motion))
        with self._art_lock:
            self._art[key] = data
            while len(self._art) > ART_CACHE_SIZE:
                self._art.popitem(last=False)
        return data

    def video_frame(self, task: Task, n: int) -> bytes:
        """The first frame of video `n` of a video task, as PNG (its thumbnail)."""
        assert task.recipe[0] == "video"
        _, first, offset = task.recipe
        return art.to_png(video.frames(art.from_png(first), offset + n, task.motion)[0])

    def add_upload(self, raw: bytes) -> str:
        name = new_hash("upload", hashlib.sha256(raw).hexdigest())
        self.uploads[name] = raw
        return name

    # ------------------------------------------------------------ submissions

    def imagine(
        self,
        owner: str,
        dialect: str,
        prompt: str,
        mode: str,
        *,
        prompt_en: str | None = None,
        parent: Task | None = None,
        custom_id: str = "",
        **extra: Unpack[SubmitFields],
    ) -> Submitted:
        self.check_prompt(prompt)
        queued, ahead = self.admit(owner, dialect, self.price("IMAGINE", mode))
        task = self.create(
            owner,
            dialect,
            action="IMAGINE",
            kind=GRID,
            prompt=prompt,
            mode=mode,
            recipe=("grid", prompt),
            family=art.family_of(prompt),
            parent=parent,
            custom_id=custom_id,
            prompt_en=prompt_en if prompt_en is not None else prompt,
            failure=self.moderation(prompt),
            **extra,
        )
        task.final_prompt = task.prompt_en
        return Submitted(task, ahead, queued)

    def blend(
        self,
        owner: str,
        dialect: str,
        images: list[bytes],
        aspect: tuple[int, int],
        mode: str,
        **extra: Unpack[SubmitFields],
    ) -> Submitted:
        queued, ahead = self.admit(owner, dialect, self.price("BLEND", mode))
        colours = [art.image_colour(raw) for raw in images]
        task = self.create(
            owner,
            dialect,
            action="BLEND",
            kind=GRID,
            prompt="",
            mode=mode,
            recipe=("blend", colours, aspect),
            family=art.hue_of(colours[0]),
            **extra,
        )
        return Submitted(task, ahead, queued)

    def describe(
        self,
        owner: str,
        dialect: str,
        raw: bytes,
        mode: str,
        *,
        attempt: int = 0,
        parent: Task | None = None,
        custom_id: str = "",
        **extra: Unpack[SubmitFields],
    ) -> Submitted:
        queued, ahead = self.admit(owner, dialect, self.price("DESCRIBE", mode))
        upload = self.add_upload(raw)
        prompts = art.describe_prompts(raw, attempt)
        text = "\n\n".join(f"{e} {p}" for e, p in zip(("1️⃣", "2️⃣", "3️⃣", "4️⃣"), prompts, strict=False))
        task = self.create(
            owner,
            dialect,
            action="DESCRIBE",
            kind=DESCRIBE,
            prompt="",
            mode=mode,
            recipe=("describe", upload, attempt),
            family=0.0,
            parent=parent,
            custom_id=custom_id,
            result_text=text,
            choices=prompts,
            **extra,
        )
        return Submitted(task, ahead, queued)

    def shorten(self, owner: str, dialect: str, prompt: str, mode: str, **extra: Unpack[SubmitFields]) -> Submitted:
        self.check_prompt(prompt)
        queued, ahead = self.admit(owner, dialect, self.price("SHORTEN", mode))
        report, choices = art.shorten(prompt)
        task = self.create(
            owner,
            dialect,
            action="SHORTEN",
            kind=SHORTEN,
            prompt=prompt,
            mode=mode,
            recipe=("shorten",),
            family=0.0,
            prompt_en=prompt,
            result_text=report,
            choices=choices,
            **extra,
        )
        return Submitted(task, ahead, queued)

    def video(
        self,
        owner: str,
        dialect: str,
        prompt: str,
        first: bytes,
        mode: str,
        *,
        motion: str,
        batch: int,
        source: str,
        video_type: str,
        parent: Task | None = None,
        offset: int = 0,
        **extra: Unpack[SubmitFields],
    ) -> Submitted:
        """A batch of videos from a first frame (image bytes); `prompt` as the proxy built it.
        An extension names its `parent` video task and where its animations go on (`offset`)."""
        self.check_prompt(prompt)
        queued, ahead = self.admit(owner, dialect, self.price("VIDEO", mode))
        task = self.create(
            owner,
            dialect,
            action="VIDEO",
            kind=VIDEO_GRID,
            prompt=prompt,
            mode=mode,
            recipe=("video", art.to_png(art.from_png(first).convert("RGB")), offset),
            family=art.hue_of(art.image_colour(first)),
            parent=parent,
            prompt_en=prompt,
            failure=self.moderation(prompt),
            **extra,
        )
        task.final_prompt = prompt
        task.batch, task.motion, task.source, task.video_type = batch, motion, source, video_type
        return Submitted(task, ahead, queued)

    def edit(
        self,
        owner: str,
        dialect: str,
        prompt: str,
        image: bytes,
        mode: str,
        *,
        retexture: bool,
        source: str,
        **extra: Unpack[SubmitFields],
    ) -> Submitted:
        """/edit or /retexture of an image: a new grid. The prompt is the client's; a
        retexture's gets the image as ``--dref``, as the proxy adds it."""
        self.check_prompt(prompt)
        action = "RETEXTURE" if retexture else "EDIT"
        queued, ahead = self.admit(owner, dialect, self.price(action, mode))
        shown = f"{prompt} --dref {source}" if retexture else prompt
        task = self.create(
            owner,
            dialect,
            action=action,
            kind=GRID,
            prompt=shown,
            mode=mode,
            recipe=("edit", art.to_png(art.from_png(image).convert("RGB")), retexture),
            family=art.hue_of(art.image_colour(image)),
            prompt_en=f"{shown} --dref {source}" if retexture else shown,
            failure=self.moderation(prompt),
            **extra,
        )
        task.description = f"/{action.lower()} {prompt}"
        task.final_prompt = shown
        task.source = source
        return Submitted(task, ahead, queued)

    def action(
        self,
        owner: str,
        dialect: str,
        parent_id: object,
        custom_id: str,
        mode: str,
        *,
        mask: bytes | None = None,
        remix: bool = False,
        **extra: Unpack[ClientFields],
    ) -> Submitted:
        """Press one of a SUCCESS task's buttons (`remix`: open its Remix dialog, if it has one)."""
        return actions.action(self, owner, dialect, parent_id, custom_id, mode, mask=mask, remix=remix, **extra)

    def submit_modal(self, owner: str, task_id: object, prompt: str | None, mask: bytes | None) -> Submitted:
        """The dialog step of a proxy task waiting in MODAL."""
        return actions.submit_modal(self, owner, task_id, prompt, mask)
