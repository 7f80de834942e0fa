"""The Provider interface both API dialects implement, and shared parsing helpers."""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

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
    ServerError,
    TaskNotFound,
    Unsupported,
)
from ..http import HttpClient
from ..models import Action, Balance, Button, Mode, Page, ProviderKind, Status, SubmitResult, Task, parse_progress

BLEND_DIMENSIONS = ("PORTRAIT", "SQUARE", "LANDSCAPE")


class Provider(ABC):
    kind: ProviderKind
    #: speed modes this provider can be asked for
    modes: tuple[Mode, ...] = (Mode.FAST, Mode.RELAX)
    #: True when the server keeps a paged history for the key
    server_history: bool = False
    supports_modal: bool = False
    supports_shorten: bool = False

    def __init__(self, profile: Profile, key: Secret | None, *, transport: httpx.AsyncBaseTransport | None = None):
        self.profile = profile
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
    @abstractmethod
    async def imagine(self, prompt: str, *, mode: Mode | None = None, images: Sequence[str] = ()) -> SubmitResult: ...

    @abstractmethod
    async def action(self, parent: Task, custom_id: str, *, mask: str | None = None) -> SubmitResult: ...

    async def modal(
        self, task_id: str, *, prompt: str, mask: str | None = None, mode: Mode | None = None
    ) -> SubmitResult:
        raise Unsupported(f"{self.label} has no modal (dialog) step.")

    @abstractmethod
    async def blend(
        self, images: Sequence[str], *, dimensions: str = "SQUARE", mode: Mode | None = None
    ) -> SubmitResult: ...

    @abstractmethod
    async def describe(self, image: str, *, mode: Mode | None = None) -> SubmitResult: ...

    async def shorten(self, prompt: str, *, mode: Mode | None = None) -> SubmitResult:
        raise Unsupported(f"{self.label} does not offer /shorten.")

    async def upload_images(self, images: Sequence[str]) -> list[str]:
        raise Unsupported(f"{self.label} does not offer image uploads.")

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

    async def aclose(self) -> None:
        await self.http.aclose()


# -- parsing helpers shared by the dialects ---------------------------------------


def json_body(response: httpx.Response, scrub: Callable[[str], str]) -> Any:
    text = response.text
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        snippet = scrub(text[:200])
        if "<html" in text[:500].lower():
            raise ServerError(
                f"The provider answered with an HTML page (HTTP {response.status_code}) instead of JSON; "
                "a gateway in front of it is probably failing.",
                status=response.status_code,
                raw=scrub(text),
            ) from None
        raise MalformedResponse(
            f"The provider sent a reply that is not valid JSON (HTTP {response.status_code}).",
            status=response.status_code,
            raw=snippet,
        ) from None


def as_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def as_id(value: Any) -> str:
    text = as_str(value).strip()
    if not text:
        raise MalformedResponse("The provider returned a task without an id.")
    return text


def parse_time(value: Any) -> datetime | None:
    """ISO strings (OhMyGPT) or epoch milliseconds (proxy) -> aware UTC datetime."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        number = float(value)
        if number > 1e11:  # milliseconds
            number /= 1000.0
        try:
            return datetime.fromtimestamp(number, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
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
    for item in items:
        if not isinstance(item, dict):
            continue
        cid = as_str(item.get("customId") or item.get("custom_id"))
        if not cid:  # link buttons ("Web") have no customId and cannot be pressed
            continue
        buttons.append(Button(custom_id=cid, label=as_str(item.get("label")), emoji=as_str(item.get("emoji"))))
    return tuple(buttons)


_QUOTED = re.compile(r"[\"'“‘「](.+?)[\"'”’」]")


def first_int(text: str) -> int | None:
    match = re.search(r"\d+", text or "")
    return int(match.group()) if match else None


def classify_refusal(message: str, *, status: int | None, raw: str | None) -> MjError:
    """Turn a server's refusal text into the error a user can act on."""
    low = (message or "").lower()
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
    status = Status.parse(data.get("status"))
    fail = as_str(data.get("failReason")).strip() or None
    if fail and not status.is_terminal:
        status = Status.FAILURE  # clients agree: a fail reason ends the task
    return Task(
        id=task_id,
        provider=provider,
        action=Action.parse(data.get("action")),
        status=status,
        progress=100 if status == Status.SUCCESS else parse_progress(data.get("progress")),
        prompt=prompt,
        final_prompt=final_prompt,
        description=as_str(data.get("description")),
        fail_reason=fail,
        submit_time=parse_time(data.get("submitTime")),
        start_time=parse_time(data.get("startTime")),
        finish_time=parse_time(data.get("finishTime")),
        image_url=urls[0] if urls else None,
        image_urls=tuple(urls),
        buttons=buttons,
        mode=mode,
        parent_id=parent_id,
        raw=dict(data),
    )
