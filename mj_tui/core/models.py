"""The normalized task model both dialects parse into."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class ProviderKind(StrEnum):
    OHMYGPT = "ohmygpt"
    MJPROXY = "mjproxy"

    @property
    def label(self) -> str:
        """The name a person knows the dialect by."""
        return "OhMyGPT" if self is ProviderKind.OHMYGPT else "midjourney-proxy"


class Mode(StrEnum):
    FAST = "fast"
    RELAX = "relax"
    TURBO = "turbo"


class Action(StrEnum):
    """What made a task, in both dialects' words.

    ``Task.action`` holds one of these, or, from a newer server, a name this client does
    not know yet, kept as sent (a StrEnum member equals its string, so both compare alike).
    """

    IMAGINE = "IMAGINE"
    UPSCALE = "UPSCALE"
    VARIATION = "VARIATION"
    REROLL = "REROLL"
    ZOOM = "ZOOM"
    OUTPAINT = "OUTPAINT"  # the proxy's name for a zoom out
    PAN = "PAN"
    INPAINT = "INPAINT"  # Vary (Region)
    BLEND = "BLEND"
    DESCRIBE = "DESCRIBE"
    SHORTEN = "SHORTEN"
    #: a batch of videos (Animate, Extend, /video) or, from midjourney-proxy, one picked video
    VIDEO = "VIDEO"
    EDIT = "EDIT"
    RETEXTURE = "RETEXTURE"
    #: midjourney-proxy's name for Upscale (Subtle / Creative / 2x / 4x)
    UPSCALE_HD = "UPSCALE_HD"
    #: a button this client has no name for (its task's action comes from the server)
    ACTION = "ACTION"

    @classmethod
    def parse(cls, value: object) -> str:
        """The server's action name, upper case; a known one as its member."""
        text = str(value or "").strip().upper() or cls.IMAGINE.value
        try:
            return cls(text)
        except ValueError:
            return text

    @property
    def starts_a_lineage(self) -> bool:
        """Made from a prompt or files, not from another task's button."""
        return self in (Action.IMAGINE, Action.BLEND, Action.DESCRIBE, Action.SHORTEN, Action.EDIT, Action.RETEXTURE)


class Status(StrEnum):
    NOT_START = "NOT_START"
    SUBMITTED = "SUBMITTED"
    IN_PROGRESS = "IN_PROGRESS"
    MODAL = "MODAL"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCEL = "CANCEL"
    UNKNOWN = "UNKNOWN"
    #: ours, never a server's: a paid request whose answer never came back, so it may or
    #: may not exist at the provider; a person decides (send again, or dismiss)
    UNCONFIRMED = "UNCONFIRMED"

    @classmethod
    def parse(cls, value: Any) -> Status:
        text = str(value or "").strip().upper()
        if not text:
            # gateways (new-api) report "" until their first upstream poll
            return cls.SUBMITTED
        if text in ("FAILED", "FAIL", "ERROR"):
            return cls.FAILURE
        if text in ("CANCELLED", "CANCELED"):
            return cls.CANCEL
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_terminal(self) -> bool:
        return self in (Status.SUCCESS, Status.FAILURE, Status.CANCEL)

    @property
    def in_flight(self) -> bool:
        """Still worth polling (MODAL waits for the user, not the server)."""
        return self in (Status.NOT_START, Status.SUBMITTED, Status.IN_PROGRESS, Status.UNKNOWN)


class ButtonKind(StrEnum):
    UPSCALE = "upscale"  # U1..U4
    VARIATION = "variation"  # V1..V4
    REROLL = "reroll"
    UPSCALE_HD = "upscale_hd"  # Upscale (Subtle / Creative / 2x / 4x)
    VARY_SUBTLE = "vary_subtle"
    VARY_STRONG = "vary_strong"
    VARY_REGION = "vary_region"
    ZOOM = "zoom"
    CUSTOM_ZOOM = "custom_zoom"
    PAN = "pan"
    DESCRIBE_PICK = "describe_pick"
    DESCRIBE_RETRY = "describe_retry"
    SHORTEN_PICK = "shorten_pick"
    BOOKMARK = "bookmark"
    ANIMATE = "animate"  # Animate (High / Low motion): an upscaled picture into videos
    VIDEO_UPSCALE = "video_upscale"  # U1..U4 under a batch of videos: one video on its own
    EXTEND = "extend"  # Extend (High / Low motion): an upscaled video, four seconds longer
    OTHER = "other"


_PAN_ARROWS = {"left": "⬅️", "right": "➡️", "up": "⬆️", "down": "⬇️"}
#: what a button is called when the server sends no label (Discord sends some as emoji
#: only), by kind; {n} is its number, {motion} High or Low, {flavour} Subtle, Creative, 2x…
_LABELS = {
    "video_upscale": "U{n}",
    "animate": "Animate ({motion} motion)",
    "extend": "Extend ({motion} motion)",
    "upscale_hd": "Upscale ({flavour})",
    "vary_subtle": "Vary (Subtle)",
    "vary_strong": "Vary (Strong)",
    "vary_region": "Vary (Region)",
    "custom_zoom": "Custom Zoom",
}


@dataclass(frozen=True)
class Button:
    custom_id: str
    label: str = ""
    emoji: str = ""

    @property
    def kind(self) -> ButtonKind:
        cid = self.custom_id
        parts = cid.split("::")
        verb = parts[2] if len(parts) > 2 else ""
        if cid.startswith("MJ::JOB::upsample::"):
            return ButtonKind.UPSCALE
        if verb == "video_virtual_upscale":
            return ButtonKind.VIDEO_UPSCALE
        if verb.startswith("animate") and verb.endswith("_extend"):
            return ButtonKind.EXTEND
        if cid.startswith("MJ::JOB::upsample_"):
            return ButtonKind.UPSCALE_HD
        if cid.startswith("MJ::JOB::variation::"):
            return ButtonKind.VARIATION
        if cid.startswith("MJ::JOB::reroll::"):
            return ButtonKind.REROLL
        if verb == "low_variation":
            return ButtonKind.VARY_SUBTLE
        if verb == "high_variation":
            return ButtonKind.VARY_STRONG
        if cid.startswith("MJ::Inpaint::"):
            return ButtonKind.VARY_REGION
        if cid.startswith("MJ::Outpaint::"):
            return ButtonKind.ZOOM
        if cid.startswith("MJ::CustomZoom::"):
            return ButtonKind.CUSTOM_ZOOM
        if verb.startswith("pan_") or verb.endswith("_pan_variation"):
            return ButtonKind.PAN
        if cid.startswith("MJ::Job::PicReader::"):
            return ButtonKind.DESCRIBE_PICK
        if cid.startswith("MJ::Picread::Retry"):
            return ButtonKind.DESCRIBE_RETRY
        if cid.startswith("MJ::Job::PromptAnalyzer::"):
            return ButtonKind.SHORTEN_PICK
        if cid.startswith("MJ::BOOKMARK::"):
            return ButtonKind.BOOKMARK
        if verb.startswith("animate"):
            return ButtonKind.ANIMATE
        return ButtonKind.OTHER

    @property
    def motion(self) -> str | None:
        """ "high" or "low" for Animate and Extend; None for any other button."""
        if self.kind not in (ButtonKind.ANIMATE, ButtonKind.EXTEND):
            return None
        verb = self.custom_id.split("::")[2]
        return "high" if "_high" in verb else "low" if "_low" in verb else None

    @property
    def index(self) -> int | None:
        """The grid quadrant (1..4) for U/V buttons; the video (1..4) for a video's U."""
        if self.kind in (ButtonKind.UPSCALE, ButtonKind.VARIATION, ButtonKind.VIDEO_UPSCALE):
            try:
                return int(self.custom_id.split("::")[3])
            except (IndexError, ValueError):
                return None
        return None

    @property
    def makes(self) -> Action:
        """The action of the task the button makes, as the servers name it (until the
        server's own answer says otherwise)."""
        return _MAKES.get(self.kind, Action.ACTION)

    @property
    def needs_modal(self) -> bool:
        """Buttons that always need a second (modal) step with user input."""
        return self.kind in (ButtonKind.VARY_REGION, ButtonKind.CUSTOM_ZOOM)

    @property
    def display(self) -> str:
        """What a person sees on the button: Midjourney's own label and emoji."""
        label = (self.label or "").strip()
        emoji = (self.emoji or "").strip()
        if self.kind == ButtonKind.PAN and not emoji:
            verb = self.custom_id.split("::")[2] if self.custom_id.count("::") >= 2 else ""
            emoji = _PAN_ARROWS.get(verb.replace("pan_", "").split("_")[0], "")
        if self.kind == ButtonKind.REROLL and not (label or emoji):
            emoji = "🔄"
        if not label and self.kind.value in _LABELS:
            label = self._default_label()
        if label and emoji:
            return f"{emoji} {label}"
        if label or emoji:
            return label or emoji
        parts = self.custom_id.split("::")
        return parts[2] if len(parts) > 2 else self.custom_id

    def _default_label(self) -> str:
        verb = self.custom_id.split("::")[2] if self.custom_id.count("::") >= 2 else ""
        flavour = verb.rsplit("_", 1)[-1].capitalize() if "_" in verb else ""
        if flavour in ("2x", "4x"):
            flavour = flavour.lower()
        return _LABELS[self.kind.value].format(
            n=self.index or "", motion=(self.motion or "").capitalize(), flavour=flavour
        )


_MAKES = {
    ButtonKind.UPSCALE: Action.UPSCALE,
    ButtonKind.VIDEO_UPSCALE: Action.UPSCALE,
    ButtonKind.ANIMATE: Action.VIDEO,
    ButtonKind.EXTEND: Action.VIDEO,
    ButtonKind.UPSCALE_HD: Action.UPSCALE,
    ButtonKind.VARIATION: Action.VARIATION,
    ButtonKind.VARY_SUBTLE: Action.VARIATION,
    ButtonKind.VARY_STRONG: Action.VARIATION,
    ButtonKind.VARY_REGION: Action.VARIATION,
    ButtonKind.REROLL: Action.REROLL,
    ButtonKind.ZOOM: Action.ZOOM,
    ButtonKind.CUSTOM_ZOOM: Action.ZOOM,
    ButtonKind.PAN: Action.PAN,
    ButtonKind.DESCRIBE_PICK: Action.IMAGINE,
    ButtonKind.DESCRIBE_RETRY: Action.DESCRIBE,
    ButtonKind.SHORTEN_PICK: Action.IMAGINE,
}


#: a task id as either dialect makes them (digits), or other proxies (letters, '-', '_', '.');
#: anything else (a '/', '?', '#', a control character, spaces, "..") cannot be a task of ours
#: and would change the meaning of the URL path it is put in
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def is_task_id(text: str) -> bool:
    return bool(_TASK_ID.fullmatch(text)) and ".." not in text


#: a tag as stored: short, lower case, and safe anywhere (a file name, a search term, a row)
TAG_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def normalize_tag(name: str) -> str | None:
    """A tag as typed ("Ramen", "#ramen", " ramen ") as stored ("ramen"); None when it
    cannot be one (see TAG_NAME)."""
    text = name.strip().removeprefix("#").lower()
    return text if TAG_NAME.fullmatch(text) else None


def parse_progress(value: Any) -> int:
    """'42%', '42', 42, 0.42?, None, '' -> 0..100, whatever the server sends
    (1e999, a 400-digit number, NaN, an object)."""
    if value is None or isinstance(value, (bool, dict, list)):
        return 0
    if isinstance(value, int):  # exact: a 400-digit integer does not fit a float
        return max(0, min(100, value))
    if isinstance(value, float):
        number = value
    else:
        # the start of the text is enough for a percentage; a huge digit run gives inf
        match = re.search(r"-?\d+(?:\.\d+)?", str(value)[:64])
        if not match:
            return 0
        number = float(match.group())
    if math.isnan(number):
        return 0
    return int(max(0.0, min(100.0, number)))


@dataclass
class Task:
    id: str
    provider: ProviderKind
    #: an Action, or a newer server's name for one, kept as sent
    action: str = Action.IMAGINE
    status: Status = Status.UNKNOWN
    progress: int = 0
    prompt: str = ""
    final_prompt: str = ""
    description: str = ""
    fail_reason: str | None = None
    submit_time: datetime | None = None
    start_time: datetime | None = None
    finish_time: datetime | None = None
    image_url: str | None = None
    # every usable URL for the image, best first (e.g. object storage, then Discord)
    image_urls: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()
    mode: Mode | None = None
    parent_id: str | None = None
    # the button (customId) that produced this task, where known
    origin_custom_id: str | None = None
    #: ours, never a server's (kept per profile in the history; an answer never clears them)
    starred: bool = False
    #: ours too: lower case, sorted, each a TAG_NAME (see normalize_tag)
    tags: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_grid(self) -> bool:
        return any(b.kind == ButtonKind.UPSCALE for b in self.buttons)

    @property
    def is_describe(self) -> bool:
        return self.action.upper() == Action.DESCRIBE

    # -- what the raw payload says beyond the normalized fields (midjourney-proxy's video
    # and seed fields; a server that sends none leaves these empty) --------------------
    @property
    def video_urls(self) -> tuple[str, ...]:
        """Every video of the task, in order (a batch of 1, 2 or 4; one after a video's U)."""
        urls = [_http_url(v.get("url")) for v in _items(self.raw.get("videoUrls"))]
        found = tuple(u for u in urls if u)
        if found:
            return found
        single = _http_url(self.raw.get("videoUrl"))
        return (single,) if single else ()

    @property
    def video_thumbnails(self) -> tuple[str | None, ...]:
        """A picture per video (its first frame), None where the server gave none; as
        long as video_urls when the server lists them."""
        items = [v for v in _items(self.raw.get("videoUrls")) if _http_url(v.get("url"))]
        return tuple(_http_url(v.get("thumbnail")) for v in items)

    @property
    def is_video(self) -> bool:
        """The task's result is video (its image_url is then a still of it)."""
        content = str(self.raw.get("contentType") or "").lower()
        return bool(self.video_urls) or content.startswith("video/") or self.action == Action.VIDEO

    @property
    def seed(self) -> str | None:
        """The job's seed where known (the server's, or one asked for and stored)."""
        value = self.raw.get("seed")
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        return text if text.isdigit() and len(text) <= 10 else None

    @property
    def queued_ahead(self) -> int | None:
        """Jobs ahead of this one in the server's queue, as it said when the job was sent
        (midjourney-proxy's code 22); None once the task has been read again, or never said."""
        value = self.raw.get("queuedAhead")
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    @property
    def base_image_url(self) -> str | None:
        """The picture a video, an edit or a retexture was made from, where the server says."""
        return _http_url(self.raw.get("baseImageUrl"))

    def with_(self, **changes: Any) -> Task:
        return replace(self, **changes)


def _items(value: Any) -> list[dict[str, Any]]:
    return [v for v in value[:16] if isinstance(v, dict)] if isinstance(value, list) else []


def _http_url(value: Any) -> str | None:
    """A link as a task may carry it: http(s), one line, of a sane length; else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text.lower().startswith(("http://", "https://")) or len(text) > 4096:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text):
        return None
    return text


@dataclass(frozen=True)
class Page:
    tasks: list[Task]
    page: int
    page_size: int
    total: int
    #: task objects on this page that could not be read and were left out
    skipped: int = 0

    @property
    def pages(self) -> int:
        # integer division: a total too big for a float (a hostile server's) still pages
        return max(1, -(-self.total // self.page_size)) if self.page_size > 0 else 1


@dataclass(frozen=True)
class SubmitResult:
    task_id: str
    #: True when the server wants a modal step (proxy code 21 / status MODAL)
    modal_required: bool = False
    #: the server's description ("提交成功", "排队中..."), shown as is
    description: str = ""
    final_prompt: str = ""
    queued_ahead: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Balance:
    balance: str
    free_balance: str | None = None
    unit: str = "tokens"
