"""OhMyGPT's Midjourney API: ``POST /api/v1/ai/draw/mj/<verb>``, envelope ``{statusCode, message, data}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import AuthError, MalformedResponse, PermissionDenied, TaskNotFound, Unsupported
from ..http import Reply
from ..models import Balance, Mode, Page, ProviderKind, SubmitResult, Task
from ..text import brief
from .base import (
    Provider,
    as_id,
    as_int,
    as_text,
    as_url,
    bounded_total,
    check_blend,
    check_webhook,
    checked_id,
    classify_refusal,
    parse_buttons,
    parse_each,
    parse_one,
    submit_problem,
    task_from,
)

OFFICIAL_STORAGE = "https://pi.ohmygpt.com/api/v1/content/mj-generated/"
# OhMyGPT's two account pools; "NORMAL" is mostly Midjourney's relax mode
POOLS = {Mode.FAST: "FAST", Mode.RELAX: "NORMAL"}
MODES_BY_POOL = {"FAST": Mode.FAST, "NORMAL": Mode.RELAX, "RELAX": Mode.RELAX, "TURBO": Mode.TURBO}
PAGE_SIZE_MIN, PAGE_SIZE_MAX = 5, 20  # documented bounds of query-mj-tasks


def _hooked(body: dict[str, Any], hook: str | None) -> dict[str, Any]:
    """The body with the documented `webhook` field when a callback URL was given; without
    one the body is exactly what it always was."""
    return {**body, "webhook": hook} if hook is not None else body


class OhMyGptProvider(Provider):
    kind = ProviderKind.OHMYGPT
    modes = (Mode.FAST, Mode.RELAX)
    server_history = True
    supports_cancel = False
    _poll_page = 1  # which history page the next batch poll reads (see fetch_many)

    @staticmethod
    def auth_headers(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    @property
    def storage_url(self) -> str:
        if self.profile.storage_url:
            return self.profile.storage_url.rstrip("/") + "/"
        if self.profile.official_ohmygpt:
            return OFFICIAL_STORAGE
        # mirrors and the emulator serve object storage under the same origin
        return f"{self.profile.base_url}/api/v1/content/mj-generated/"

    def _url(self, verb: str) -> str:
        return f"{self.profile.path_template.rstrip('/')}/{verb}"

    def check_mode(self, mode: Mode | None) -> Mode:
        if (mode or self.profile.default_mode) == Mode.TURBO:
            raise Unsupported("Turbo mode is not offered by OhMyGPT: use fast or relax.")
        return super().check_mode(mode)

    async def _call(
        self, verb: str, body: dict[str, Any], *, idempotent: bool, params: dict[str, Any] | None = None
    ) -> Any:
        reply = await self.http.send_json(
            "POST", self._url(verb), json={"model": "midjourney", **body}, params=params, idempotent=idempotent
        )
        return self._unwrap(reply, submit=not idempotent)

    def _unwrap(self, reply: Reply, *, submit: bool = False) -> Any:
        scrub = self.http.scrub
        payload = reply.payload
        status = reply.status
        raw = scrub(reply.text)
        if not isinstance(payload, dict):
            if status in (401, 403):
                raise AuthError(f"OhMyGPT rejected the API key (HTTP {status}).", status=status)
            if submit and status < 300:
                raise submit_problem(f"OhMyGPT sent an unexpected reply (HTTP {status}).")
            raise MalformedResponse(f"OhMyGPT sent an unexpected reply (HTTP {status}).", status=status, raw=raw)
        code = payload.get("statusCode", status)
        err = payload.get("error")
        message = payload.get("message") or (err.get("message") if isinstance(err, dict) else "")
        message = brief(scrub(as_text(message)))
        if status in (401, 403) or code in (401, 403):
            if "permission" in message.lower() or "权限" in message:
                raise PermissionDenied(
                    "This API key has no Midjourney permission: tick 'midjourney' in the key's permissions "
                    f"on OhMyGPT, then try again. (Server: {message})",
                    status=status,
                    raw=raw,
                )
            raise AuthError(
                f"OhMyGPT rejected the API key: {message or 'unauthorized'}. Check the key (mj-tui key set).",
                status=status,
                raw=raw,
            )
        ok = as_int(code) == 200
        if not ok or status >= 400:
            raise classify_refusal(message, status=status, raw=raw)
        return payload.get("data")

    def _submitted(self, data: Any) -> SubmitResult:
        if isinstance(data, dict):  # tolerate a task object where an id is documented
            data = data.get("taskId", data.get("id"))
        return SubmitResult(task_id=as_id(data, submitted=True), description="Success")

    # -- submits ------------------------------------------------------------------
    async def imagine(
        self, prompt: str, *, mode: Mode | None = None, images: Sequence[str] = (), webhook: str | None = None
    ) -> SubmitResult:
        hook = check_webhook(webhook)
        body: dict[str, Any] = {"prompt": prompt, "type": POOLS[self.check_mode(mode)]}
        if images:
            body["base64Array"] = list(images)
        return self._submitted(await self._call("imagine", _hooked(body, hook), idempotent=False))

    async def action(
        self,
        parent: Task,
        custom_id: str,
        *,
        mask: str | None = None,
        webhook: str | None = None,
        remix: bool = False,
    ) -> SubmitResult:
        hook = check_webhook(webhook)
        # an action must run in the parent's pool: FAST on a NORMAL task is refused
        mode = parent.mode if parent.mode in POOLS else self.check_mode(None)
        body: dict[str, Any] = {"taskId": parent.id, "customId": custom_id, "type": POOLS[mode]}
        if mask:
            body["base64Mask"] = mask
        return self._submitted(await self._call("action", _hooked(body, hook), idempotent=False))

    async def blend(
        self,
        images: Sequence[str],
        *,
        dimensions: str = "SQUARE",
        mode: Mode | None = None,
        webhook: str | None = None,
    ) -> SubmitResult:
        hook = check_webhook(webhook)
        dims = check_blend(images, dimensions)
        body = {"base64Array": list(images), "dimensions": dims, "type": POOLS[self.check_mode(mode)]}
        return self._submitted(await self._call("blend", _hooked(body, hook), idempotent=False))

    async def describe(self, image: str, *, mode: Mode | None = None, webhook: str | None = None) -> SubmitResult:
        hook = check_webhook(webhook)
        body = {"base64": image, "type": POOLS[self.check_mode(mode)]}
        return self._submitted(await self._call("describe", _hooked(body, hook), idempotent=False))

    # Its documented Midjourney API is imagine, blend, action, describe and the task queries:
    # each of these says so, before anything is sent.
    _ONLY = "OhMyGPT's Midjourney API offers imagine, blend, describe and buttons only"

    async def video(self, image: str | None, *, prompt: str, **options: Any) -> SubmitResult:
        raise Unsupported(f"{self._ONLY}: it has no video. Use a midjourney-proxy provider to animate a picture.")

    async def edit(
        self, image: str, *, prompt: str, retexture: bool = False, mode: Mode | None = None, webhook: str | None = None
    ) -> SubmitResult:
        what = "retexture" if retexture else "edit"
        raise Unsupported(f"{self._ONLY}: it has no {what}. Use a midjourney-proxy provider for it.")

    async def upload_images(self, images: Sequence[str]) -> list[str]:
        raise Unsupported(f"{self._ONLY}: it turns no files into links (images are sent inline instead).")

    async def image_seed(self, task_id: str) -> str:
        checked_id(task_id)
        raise Unsupported(f"{self._ONLY}: it does not report seeds. Put --seed N in the prompt to know it.")

    async def cancel(self, task_id: str) -> None:
        checked_id(task_id)
        raise Unsupported("OhMyGPT has no way to cancel a job: it will run to the end and be billed as usual.")

    # -- reads --------------------------------------------------------------------
    async def fetch(self, task_id: str) -> Task:
        task_id = checked_id(task_id)
        data = await self._call("query", {"taskId": task_id}, idempotent=True)
        if not isinstance(data, dict):
            raise TaskNotFound(f"OhMyGPT returned no task for id {task_id}.")
        return parse_one(data, self.parse_task)

    async def fetch_many(self, ids: Sequence[str]) -> list[Task]:
        wanted = {str(i) for i in ids}
        if not wanted:
            return []
        if len(wanted) == 1:
            return [await self.fetch(next(iter(wanted)))]
        # In-flight tasks are the newest, so page 1 of the history usually covers them
        # in one request.  With more in flight than a page holds, successive calls walk
        # the following pages, still one request per call, then start over.
        page = await self.list_page(self._poll_page, PAGE_SIZE_MAX)
        found = [t for t in page.tasks if t.id in wanted]
        more_pages = len(page.tasks) + page.skipped >= page.page_size and page.page < page.pages
        self._poll_page = page.page + 1 if len(found) < len(wanted) and more_pages else 1
        return found

    async def list_page(self, page: int, page_size: int) -> Page:
        page = max(1, int(page))
        size = max(PAGE_SIZE_MIN, min(PAGE_SIZE_MAX, int(page_size)))
        data = await self._call("query-mj-tasks", {}, idempotent=True, params={"page": page, "pageSize": size})
        if isinstance(data, dict) and "tasks" in data:
            items = data.get("tasks") or []
            total = data.get("total")
        elif isinstance(data, dict) and ("taskId" in data or "status" in data):
            # the doc's own example puts a single task in `data`; accept it
            items, total = [data], 1
        elif isinstance(data, list):
            items, total = data, len(data)
        else:
            raise MalformedResponse("OhMyGPT's task list had an unexpected shape.")
        if not isinstance(items, list):
            raise MalformedResponse("OhMyGPT's task list had an unexpected shape.")
        tasks, skipped = parse_each(items, self.parse_task)
        self.skipped_tasks += skipped
        return Page(tasks=tasks, page=page, page_size=size, total=bounded_total(total, len(tasks)), skipped=skipped)

    async def balance(self) -> Balance | None:
        """Needs an admin key; an ordinary MJ key gets 401, which just means "not shown"."""
        try:
            reply = await self.http.send_json("POST", "/api/v1/user/admin/balance", idempotent=True)
            data = self._unwrap(reply)
        except (AuthError, PermissionDenied):
            return None
        if not isinstance(data, dict) or "balance" not in data:
            return None
        free = data.get("free_balance")
        return Balance(
            balance=as_text(data.get("balance"), 40), free_balance=as_text(free, 40) if free is not None else None
        )

    # -- parsing ------------------------------------------------------------------
    def parse_callback(self, body: Any) -> Task:
        """OhMyGPT posts the bare task object (what `query` puts in `data`); a body wrapped
        in the usual envelope is read too, in case a mirror wraps its callbacks."""
        if isinstance(body, dict) and "taskId" not in body and isinstance(body.get("data"), dict):
            body = body["data"]
        return super().parse_callback(body)

    def parse_task(self, data: dict[str, Any]) -> Task:
        urls: list[str] = []
        s3 = as_text(data.get("imageS3Url")).strip()
        if s3:
            urls.append(s3 if s3.startswith(("http://", "https://")) else self.storage_url + s3.lstrip("/"))
        dc = as_url(data.get("imageDcUrl"))
        if dc:
            urls.append(dc)
        prompt = as_text(data.get("prompt"))
        pool = as_text(data.get("taskType"), 20).upper()
        return task_from(
            data,
            task_id=as_id(data.get("taskId", data.get("id"))),
            provider=ProviderKind.OHMYGPT,
            prompt=prompt,
            final_prompt=prompt,
            urls=urls,
            buttons=parse_buttons(data.get("actions")),
            mode=MODES_BY_POOL.get(pool),
        )
