"""The Provider interface both API dialects implement, and shared parsing helpers."""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from ..config import Profile
from ..credentials import Secret
from ..errors import (
    BannedPrompt,
    InsufficientBalance,
    InvalidRequest,
    MalformedResponse,
    MjError,
    QueueFull,
    TaskNotFound,
    Unsupported,
)
from ..http import AMBIGUOUS_SUBMIT, HttpClient
from ..models import (
    Action,
    Balance,
    Button,
    Mode,
    Page,
    ProviderKind,
    Status,
    SubmitResult,
    Task,
    is_task_id,
    parse_progress,
)
from ..text import brief

BLEND_DIMENSIONS = ("PORTRAIT", "SQUARE", "LANDSCAPE")

# -- bounds on what one task object may bring in ----------------------------------
#: a prompt, description or fail reason (Midjourney's own prompt limit is ~6,000 characters)
TEXT_MAX = 16 * 1024
ACTION_MAX = 40
MAX_BUTTONS = 64
CUSTOM_ID_MAX = 512
LABEL_MAX = 100
URL_MAX = 4096
#: the raw task object kept with a task (and so in the history), as JSON
RAW_MAX = 64 * 1024
RAW_DEPTH_MAX = 32
#: the task fields of both dialects that a cut raw payload keeps
KNOWN_FIELDS = (
    "id",
    "taskId",
    "action",
    "status",
    "progress",
    "prompt",
    "promptEn",
    "description",
    "failReason",
    "submitTime",
    "startTime",
    "finishTime",
    "imageUrl",
    "imageDcUrl",
    "imageS3Url",
    "taskType",
    "mode",
    "parentId",
    "buttons",
    "actions",
    "properties",
    "seed",
    "videoUrl",
    "videoUrls",
    "baseImageUrl",
    "contentType",
    "videoType",
)


class Provider(ABC):
    kind: ProviderKind
    #: speed modes this provider can be asked for
    modes: tuple[Mode, ...] = (Mode.FAST, Mode.RELAX)
    #: True when the server keeps a paged history for the key
    server_history: bool = False
    supports_modal: bool = False
    supports_shorten: bool = False
    #: True when the dialect has a way to stop a job it accepted
    supports_cancel: bool = False
    #: videos, edits and retextures, image links for files, and seeds, where offered
    supports_video: bool = False
    supports_edit: bool = False
    supports_upload: bool = False
    supports_seed: bool = False

    def __init__(self, profile: Profile, key: Secret | None, *, transport: httpx.AsyncBaseTransport | None = None):
        self.profile = profile
        #: task objects from the server that could not be parsed and were left out (no id,
        #: an impossible id, wrong types), since this provider was made
        self.skipped_tasks = 0
        self.http = HttpClient(
            profile.base_url,
            secret=key,
            auth_headers=self.auth_headers,
            timeout=profile.request_timeout,
            transport=transport,
        )

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}(profile={self.profile.name!r}, base_url={self.profile.base_url!r})"

    @staticmethod
    @abstractmethod
    def auth_headers(key: str) -> dict[str, str]: ...

    def check_mode(self, mode: Mode | None) -> Mode:
        mode = mode or self.profile.default_mode
        if mode not in self.modes:
            offered = ", ".join(m.value for m in self.modes)
            raise Unsupported(f"{mode.value} mode is not offered by {self.label} (available: {offered}).")
        return mode

    @property
    def label(self) -> str:
        return self.kind.label

    # -- submits (never retried) --------------------------------------------------
    # `webhook`: a URL the provider calls with the task's state as it changes (None: the
    # field is left out of the request altogether). Checked by `check_webhook` first.
    @abstractmethod
    async def imagine(
        self, prompt: str, *, mode: Mode | None = None, images: Sequence[str] = (), webhook: str | None = None
    ) -> SubmitResult: ...

    @abstractmethod
    async def action(
        self,
        parent: Task,
        custom_id: str,
        *,
        mask: str | None = None,
        webhook: str | None = None,
        remix: bool = False,
    ) -> SubmitResult:
        """Press a button. `remix`: ask for the button's prompt dialog even where the account
        would skip it (a dialect without dialogs ignores it)."""

    async def modal(
        self,
        task_id: str,
        *,
        prompt: str,
        mask: str | None = None,
        mode: Mode | None = None,
        webhook: str | None = None,
    ) -> SubmitResult:
        raise Unsupported(f"{self.label} has no modal (dialog) step.")

    @abstractmethod
    async def blend(
        self,
        images: Sequence[str],
        *,
        dimensions: str = "SQUARE",
        mode: Mode | None = None,
        webhook: str | None = None,
    ) -> SubmitResult: ...

    @abstractmethod
    async def describe(self, image: str, *, mode: Mode | None = None, webhook: str | None = None) -> SubmitResult: ...

    async def shorten(self, prompt: str, *, mode: Mode | None = None, webhook: str | None = None) -> SubmitResult:
        raise Unsupported(f"{self.label} does not offer /shorten.")

    async def cancel(self, task_id: str) -> None:
        """Stop a job that has not finished (a finished or unknown one is left as it is)."""
        raise Unsupported(f"{self.label} has no way to cancel a job.")

    async def upload_images(self, images: Sequence[str]) -> list[str]:
        raise Unsupported(f"{self.label} does not offer image uploads.")

    async def video(
        self,
        image: str | None,
        *,
        prompt: str,
        motion: str = "low",
        end: str | None = None,
        loop: bool = False,
        batch: int = 4,
        hd: bool = False,
        mode: Mode | None = None,
        extend: str | None = None,
        index: int | None = None,
        webhook: str | None = None,
    ) -> SubmitResult:
        """Videos from a first frame (a link or a data URL), or, with `extend` (a video
        task's id) and `index` (its video, 1-based), that video made longer."""
        raise Unsupported(f"{self.label} makes no videos.")

    async def edit(
        self, image: str, *, prompt: str, retexture: bool = False, mode: Mode | None = None, webhook: str | None = None
    ) -> SubmitResult:
        """A new grid from an image and a prompt: an edit, or with `retexture` the image's
        shapes in new surfaces."""
        raise Unsupported(f"{self.label} offers no {'retexture' if retexture else 'edit'}.")

    # -- reads (retried with backoff) --------------------------------------------
    @abstractmethod
    async def fetch(self, task_id: str) -> Task: ...

    @abstractmethod
    async def fetch_many(self, ids: Sequence[str]) -> list[Task]:
        """Current state of several tasks in as few requests as possible."""

    async def list_page(self, page: int, page_size: int) -> Page:
        raise Unsupported(f"{self.label} keeps no history for an API key; mj-tui pages its local history instead.")

    async def image_seed(self, task_id: str) -> str:
        raise Unsupported(f"{self.label} does not report seeds.")

    async def balance(self) -> Balance | None:
        return None

    # -- parsing ------------------------------------------------------------------
    @abstractmethod
    def parse_task(self, data: dict[str, Any]) -> Task:
        """A Task from one of this dialect's task objects (as its fetch returns them)."""

    def parse_callback(self, body: Any) -> Task:
        """The Task in a callback's JSON body (a webhook delivery), read by the same parser
        as a fetch; MalformedResponse for anything that is not a task object of this dialect.
        The body comes from whoever reached the callback URL: it is as untrusted as any answer."""
        if not isinstance(body, dict):
            raise MalformedResponse(f"A callback to {self.label} held no task object.")
        return parse_one(body, self.parse_task)

    async def aclose(self) -> None:
        await self.http.aclose()


#: the longest callback URL a submit may carry (midjourney-proxy refuses longer ones)
WEBHOOK_MAX = 2000


def check_webhook(url: str | None) -> str | None:
    """A callback URL as a submit may send it: http(s), one line, at most WEBHOOK_MAX
    characters; refused before anything is sent (and paid for) otherwise."""
    if url is None:
        return None
    if not isinstance(url, str) or len(url) > WEBHOOK_MAX:
        raise InvalidRequest(f"A callback URL may be at most {WEBHOOK_MAX} characters long.")
    ok = url.lower().startswith(("http://", "https://")) and len(url) > len("https://")
    if not ok or any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in url):
        raise InvalidRequest("A callback URL must be an http:// or https:// address, with no spaces in it.")
    return url


def check_blend(images: Sequence[str], dimensions: str) -> str:
    """Refuse a blend no dialect takes (before it is paid for); the shape's wire name."""
    if not 2 <= len(images) <= 5:
        raise InvalidRequest(f"Blend takes 2 to 5 images; got {len(images)}.")
    dims = dimensions.upper()
    if dims not in BLEND_DIMENSIONS:
        raise InvalidRequest(f"Blend dimensions must be one of {', '.join(BLEND_DIMENSIONS)}.")
    return dims


# -- parsing helpers shared by the dialects ---------------------------------------


def as_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_text(value: Any, limit: int = TEXT_MAX) -> str:
    """A text field: a string or a number as sent, at most `limit` characters; "" for
    anything else (an object or a list where a sentence belongs)."""
    if isinstance(value, (dict, list)):
        return ""
    return as_str(value)[:limit]


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object, or {} for anything else (a server may send null or a string)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    """1, 1.0 or "1" -> 1; anything else (None, "", "x", True, 1.5) -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # a long run of digits is no count or code of ours (and int() refuses 4,300 digits)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    return None


def as_id(value: Any, *, submitted: bool = False) -> str:
    """A task id from the server, or MalformedResponse when it cannot be one.

    `submitted`: the id answers a submit, so the job may exist at the provider even
    though its id is unusable; the error says so."""
    after = " The job may have been created: check the task list before submitting it again." if submitted else ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    usable = isinstance(value, (str, int)) and not isinstance(value, bool)
    text = str(value).strip() if usable else ""
    if not text:
        raise MalformedResponse("The provider returned a task without an id." + after, outcome_unknown=submitted)
    if not is_task_id(text):
        raise MalformedResponse(
            f"The provider returned a task id mj-tui cannot use ({brief(text, 40)})." + after,
            outcome_unknown=submitted,
        )
    return text


def checked_id(task_id: str) -> str:
    """A task id given to us (a command line, the history), before it goes into a request."""
    text = str(task_id).strip()
    if not is_task_id(text):
        raise InvalidRequest(f"“{brief(text, 60)}” is not a task id (letters, digits, '-', '_' and '.').")
    return text


def path_id(task_id: str) -> str:
    """A task id as a URL path segment: checked, then quoted all the same."""
    return quote(checked_id(task_id), safe="")


def as_url(value: Any) -> str | None:
    """An image link: http(s) only (never file:, javascript: or data:), of a sane length."""
    text = as_str(value).strip() if isinstance(value, str) else ""
    if not text or len(text) > URL_MAX or not text.lower().startswith(("http://", "https://")):
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text):
        return None
    return text


def _depth(value: Any, limit: int) -> int:
    """How deeply `value` nests, counted up to limit + 1 (no recursion: a hostile
    payload may nest deeper than the interpreter's stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _json_size(value: Any) -> int | None:
    try:
        return len(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError):
        return None


def bounded_raw(data: dict[str, Any]) -> dict[str, Any]:
    """The task object as kept with the task: whole when it is small, else only the known
    fields that fit in RAW_MAX (and ``"_cut": true``). A fetch cannot grow the history by
    more than this per task, whatever the server sends."""
    if _depth(data, RAW_DEPTH_MAX) <= RAW_DEPTH_MAX:
        size = _json_size(data)
        if size is not None and size <= RAW_MAX:
            return dict(data)
    kept: dict[str, Any] = {"_cut": True}
    room = RAW_MAX - 20
    for key in KNOWN_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, str) and len(value) > TEXT_MAX:
            value = value[:TEXT_MAX]
        if isinstance(value, (dict, list)) and _depth(value, RAW_DEPTH_MAX) > RAW_DEPTH_MAX:
            continue
        size = _json_size({key: value})
        if size is not None and size <= room:
            kept[key] = value
            room -= size
    return kept


def parse_time(value: Any) -> datetime | None:
    """ISO strings (OhMyGPT) or epoch milliseconds (proxy) -> aware UTC datetime."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            number = float(value)  # a 400-digit integer does not fit a float
            if number > 1e11:  # milliseconds
                number /= 1000.0
            return datetime.fromtimestamp(number, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_buttons(items: Any) -> tuple[Button, ...]:
    if not isinstance(items, list):
        return ()
    buttons = []
    for item in items[: MAX_BUTTONS * 2]:
        if not isinstance(item, dict):
            continue
        cid = as_text(item.get("customId") or item.get("custom_id"), CUSTOM_ID_MAX + 1)
        # link buttons ("Web") have no customId and cannot be pressed; a huge one is no button
        if not cid or len(cid) > CUSTOM_ID_MAX:
            continue
        label, emoji = as_text(item.get("label"), LABEL_MAX), as_text(item.get("emoji"), LABEL_MAX)
        buttons.append(Button(custom_id=cid, label=label, emoji=emoji))
        if len(buttons) == MAX_BUTTONS:
            break
    return tuple(buttons)


def parse_each(items: Iterable[Any], parse: Callable[[dict[str, Any]], Task]) -> tuple[list[Task], int]:
    """Parse every task object that can be; return them and how many were skipped.

    One bad object (no id, wrong types) must not cost the good ones their page."""
    tasks: list[Task] = []
    skipped = 0
    for item in items:
        if not isinstance(item, dict):
            skipped += 1
            continue
        try:
            tasks.append(parse(item))
        except (MjError, TypeError, ValueError, OverflowError, RecursionError):
            skipped += 1
    return tasks, skipped


def parse_one(data: dict[str, Any], parse: Callable[[dict[str, Any]], Task]) -> Task:
    """One task the caller asked for: parsed, or a clear MalformedResponse."""
    try:
        return parse(data)
    except MjError:
        raise
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise MalformedResponse("The provider returned a task mj-tui cannot read.") from None


def bounded_total(value: Any, floor: int) -> int:
    """A list's total as the server gives it, kept within what a page count can use."""
    total = as_int(value)
    if total is None:
        return floor
    return max(floor, min(total, 10**9))


def submit_problem(message: str) -> MalformedResponse:
    """A submit answered with something unusable: the job may exist all the same."""
    return MalformedResponse(message + AMBIGUOUS_SUBMIT, outcome_unknown=True)


_QUOTED = re.compile(r"[\"'“‘「](.+?)[\"'”’」]")


def first_int(text: str) -> int | None:
    match = re.search(r"\d{1,9}", text or "")
    return int(match.group()) if match else None


def classify_refusal(message: str, *, status: int | None, raw: str | None) -> MjError:
    """Turn a server's refusal text into the error a user can act on."""
    low = (message or "").lower()
    message = brief(message)
    shown = message or "The provider refused the request."
    if any(w in low for w in ("balance", "quota", "余额", "额度", "insufficient", "credit")):
        return InsufficientBalance(
            f"Not enough balance for this job: {shown} Top up your account, or use relax mode where it is cheaper.",
            status=status,
            raw=raw,
        )
    if any(w in low for w in ("queue", "unfinished", "队列", "并发", "concurren")):
        limit = first_int(message)
        extra = f" (limit {limit})" if limit is not None else ""
        return QueueFull(
            f"Your queue is full{extra}: wait for a running job to finish, then submit again. Server said: {shown}",
            status=status,
            raw=raw,
            limit=limit,
        )
    if any(w in low for w in ("banned", "sensitive", "敏感", "违禁", "moderat", "not allowed")):
        quoted = _QUOTED.search(message or "")
        word = quoted.group(1) if quoted else None
        return BannedPrompt(
            f"The prompt was refused by moderation{f' (word: {word})' if word else ''}: {shown}",
            status=status,
            raw=raw,
            word=word,
        )
    if any(w in low for w in ("not found", "not exist", "不存在", "no_found", "not_found")):
        return TaskNotFound(f"The provider does not know that task: {shown}", status=status, raw=raw)
    return InvalidRequest(shown, status=status, raw=raw)


def task_from(
    data: dict[str, Any],
    *,
    task_id: str,
    provider: ProviderKind,
    prompt: str,
    final_prompt: str,
    urls: Sequence[str],
    buttons: tuple[Button, ...],
    mode: Mode | None,
    parent_id: str | None = None,
) -> Task:
    """A Task from a dialect's task object: the fields both dialects name alike are read
    here (status, fail reason, progress, times, description); the caller gives the rest."""
    status = Status.parse(as_text(data.get("status"), ACTION_MAX))
    fail = as_text(data.get("failReason")).strip() or None
    if fail and not status.is_terminal:
        status = Status.FAILURE  # clients agree: a fail reason ends the task
    parent = as_str(parent_id).strip() if parent_id else ""
    urls = [u for u in (as_url(u) for u in urls) if u]
    return Task(
        id=task_id,
        provider=provider,
        action=Action.parse(as_text(data.get("action"), ACTION_MAX)),
        status=status,
        progress=100 if status == Status.SUCCESS else parse_progress(data.get("progress")),
        prompt=prompt[:TEXT_MAX],
        final_prompt=final_prompt[:TEXT_MAX],
        description=as_text(data.get("description")),
        fail_reason=fail,
        submit_time=parse_time(data.get("submitTime")),
        start_time=parse_time(data.get("startTime")),
        finish_time=parse_time(data.get("finishTime")),
        image_url=urls[0] if urls else None,
        image_urls=tuple(urls),
        buttons=buttons,
        mode=mode,
        # a parent id that cannot be a task is dropped, not followed
        parent_id=parent if is_task_id(parent) else None,
        raw=bounded_raw(data),
    )
