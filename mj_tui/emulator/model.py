"""Types shared by the engine, its action logic and the dialect modules."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, TypedDict

from .art import RGB

OHMYGPT = "ohmygpt"
MJPROXY = "mjproxy"

# How art renders a task's image (see Engine._render): an op and its arguments.
Recipe: TypeAlias = (
    tuple[Literal["grid"], str]  # prompt
    | tuple[Literal["blend"], list[RGB], tuple[int, int]]  # input colours, aspect
    | tuple[Literal["crop"], int]  # quadrant 1-4
    | tuple[Literal["upscale"], bool]  # creative
    | tuple[Literal["vary"]]
    | tuple[Literal["vary"], float]  # hue spread
    | tuple[Literal["zoom"], float]  # scale of the parent in the new canvas
    | tuple[Literal["pan"], str]  # direction
    | tuple[Literal["inpaint"], bytes | None]  # PNG mask; None until the proxy's modal brings it
    | tuple[Literal["describe"], str, int]  # upload name, attempt
    | tuple[Literal["shorten"]]
    | tuple[Literal["video"], bytes, int]  # first frame (PNG), which animation the batch starts at
    | tuple[Literal["edit"], bytes, bool]  # source image (PNG or as uploaded), retexture
)


class EmulatorError(Exception):
    """A refused request. kind: invalid|banned|balance|queue_limit|queue_full|not_found|
    state|button|mode|unsupported|limit (a per-key limit, answered in the logic-error body)|
    no_account (no Midjourney account can take the job)."""

    def __init__(self, kind: str, message: str, **info: object) -> None:
        super().__init__(message)
        self.kind, self.message, self.info = kind, message, info


@dataclass(slots=True)
class Task:
    id: str
    dialect: str
    owner: str
    action: str  # IMAGINE UPSCALE VARIATION REROLL ZOOM PAN BLEND DESCRIBE SHORTEN
    kind: str  # buttons.GRID / SINGLE / SINGLE_HD / DESCRIBE / SHORTEN
    prompt: str
    mode: str  # FAST|NORMAL (OhMyGPT) or FAST|RELAX|TURBO (proxy)
    submit_at: float
    hash: str
    recipe: Recipe
    family: float = 0.0  # palette hue shared by related images
    start_at: float | None = None  # None while waiting for a modal
    duration: float = 0.0
    failure: str | None = None  # failReason, revealed when the job ends
    parent_id: str | None = None
    custom_id: str = ""
    description: str = ""
    prompt_en: str = ""
    final_prompt: str = ""
    result_text: str = ""  # describe / shorten output, shown once SUCCESS
    choices: list[str] = field(default_factory=list)  # describe / shorten prompts for the buttons
    state: str = ""
    webhook: str | None = None
    modal: str | None = None  # pending dialog: inpaint|custom_zoom|remix|picreader|analyzer
    price: float = 0.0
    charged: bool = True
    cancelled_at: float | None = None  # when an admin cancelled it: a FAILURE from then on
    batch: int = 0  # videos the task makes (1, 2 or 4); 0 for a picture
    motion: str = ""  # a video's motion: low|high
    video_type: str = ""  # vid_1.1_i2v_480 (SD) | vid_1.1_i2v_720 (HD), as the client asked
    source: str = ""  # baseImageUrl: the first frame or edited image ("upload:<name>" for ours)
    seed: str | None = None  # known once a client asked for it (image-seed)

    # Phase boundaries inside the job: queued → submitted → rendering → done.
    @property
    def submitted_at(self) -> float:
        return self._started + 0.05 * self.duration

    @property
    def running_at(self) -> float:
        return self._started + 0.15 * self.duration

    @property
    def end_at(self) -> float:
        if self.cancelled_at is not None:
            return self.cancelled_at
        # Moderation rejects the job as soon as Midjourney starts it.
        return self.running_at if self.failure else self._started + self.duration

    @property
    def _started(self) -> float:
        # A task has phases only once it has a worker; callers check start_at (or the
        # view's MODAL status) first.
        if self.start_at is None:
            raise ValueError(f"task {self.id} is waiting for a modal: it has not started")
        return self.start_at


class ClientFields(TypedDict, total=False):
    """What a client attaches to a submission and reads back on the task."""

    webhook: str | None
    state: str


class SubmitFields(ClientFields, total=False):
    description: str


class CreateFields(SubmitFields, total=False):
    """Task fields that only some kinds of submission fill in (Engine.create passes them on)."""

    prompt_en: str
    failure: str | None
    result_text: str
    choices: list[str]


@dataclass(frozen=True, slots=True)
class View:
    status: str
    progress: int
    started: bool
    finished: bool


@dataclass(frozen=True, slots=True)
class Submitted:
    task: Task
    queued_ahead: int = 0  # proxy code 22 when > 0 or when every slot was busy
    queued: bool = False
    modal: bool = False


def new_hash(*parts: object) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(":".join(map(str, parts)).encode()).digest(), version=4))


def find_word(text: str, words: list[str]) -> str | None:
    for word in words:
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.I):
            return word
    return None
