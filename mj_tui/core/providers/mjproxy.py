"""The midjourney-proxy dialect (MaxAPI and other new-api resellers, self-hosted proxies).

Submits answer ``{code, description, result, properties}``; tasks are fetched
from ``/mj/task/{id}/fetch``.  The speed pool is a path prefix
(``/mj-fast/mj``...) set by the profile's path template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import (
    AuthError,
    BannedPrompt,
    InsufficientBalance,
    InvalidRequest,
    MalformedResponse,
    MjError,
    PermissionDenied,
    QueueFull,
    QuotaReached,
    RateLimited,
    ServerError,
    TaskNotFound,
    Unsupported,
)
from ..http import Reply
from ..models import Mode, ProviderKind, SubmitResult, Task
from ..text import brief
from .base import (
    Provider,
    as_dict,
    as_id,
    as_int,
    as_text,
    as_url,
    check_blend,
    check_webhook,
    checked_id,
    classify_refusal,
    first_int,
    parse_buttons,
    parse_each,
    parse_one,
    path_id,
    submit_problem,
    task_from,
)

ACCEPTED = (1, 22)  # submitted, queued
#: "Waiting for window confirm" on today's servers; older ones meant "the task exists
#: already" by it (their answer then names that task, with no prompt for a dialog)
MODAL_NEEDED = 21
#: the video types a server takes: standard and high definition
VIDEO_TYPES = {False: "vid_1.1_i2v_480", True: "vid_1.1_i2v_720"}
BATCH_SIZES = (1, 2, 4)
MOTIONS = ("low", "high")
#: a server's words for a cap on the key's jobs (a day's), as opposed to a full queue
_CAP_WORDS = ("今日", "次数", "daily", "per day")
LIST_CHUNK = 50  # ids per list-by-condition call; no backend documents a cap
SPEED_FLAG = re.compile(r"(?:^|\s)--(fast|relax|turbo)\b", re.IGNORECASE)
MODES_BY_NAME = {"FAST": Mode.FAST, "RELAX": Mode.RELAX, "TURBO": Mode.TURBO}


def _has_verdict(payload: Any) -> bool:
    """The answer says what became of a submit: a result code, or a gateway's refusal."""
    if not isinstance(payload, dict):
        return False
    return (
        as_int(payload.get("code")) is not None
        or isinstance(payload.get("error"), dict)
        or payload.get("success") is False
    )


_VIDEO_SUFFIXES = (".mp4", ".webm", ".mov")


def _is_video_link(url: str, data: dict[str, Any]) -> bool:
    path = url.split("?", 1)[0].lower()
    return path.endswith(_VIDEO_SUFFIXES) or (
        url == data.get("url") and as_text(data.get("contentType"), 40).lower().startswith("video/")
    )


def _asks_for_dialog(props: dict[str, Any], description: str) -> bool:
    """Whether a code 21 is today's "waiting for the dialog" (MODAL) rather than an older
    server's "that task exists already": today's names the prompt for the dialog or says
    Remix; the older one says neither (and its task is followed like any other)."""
    low = description.lower()
    return (
        "finalPrompt" in props
        or props.get("remix") is True
        or "window" in low
        or "窗口" in description
        or "modal" in low
        or not ("exist" in low or "存在" in description)
    )


def _hooked(body: dict[str, Any], hook: str | None) -> dict[str, Any]:
    """The body with `notifyHook` when a callback URL was given; without one the body is
    exactly what it always was."""
    return {**body, "notifyHook": hook} if hook is not None else body


class MjProxyProvider(Provider):
    kind = ProviderKind.MJPROXY
    modes = (Mode.FAST, Mode.RELAX, Mode.TURBO)
    supports_modal = True
    supports_shorten = True
    supports_cancel = True
    supports_video = True
    supports_edit = True
    supports_upload = True
    supports_seed = True

    @staticmethod
    def auth_headers(key: str) -> dict[str, str]:
        # new-api gateways read Authorization, self-hosted proxies mj-api-secret: send both
        return {"Authorization": f"Bearer {key}", "mj-api-secret": key}

    @property
    def mode_in_path(self) -> bool:
        return "{mode}" in self.profile.path_template

    def _url(self, tail: str, mode: Mode | None = None) -> str:
        template = self.profile.path_template.rstrip("/") or "/mj"
        prefix = template.replace("{mode}", (mode or self.profile.default_mode).value)
        return f"{prefix}/{tail}"

    def _with_speed_flag(self, prompt: str, mode: Mode) -> str:
        # without a mode prefix the only way to pick a pool is the prompt flag
        if self.mode_in_path or SPEED_FLAG.search(prompt):
            return prompt
        return f"{prompt} --{mode.value}"

    # -- envelopes ----------------------------------------------------------------
    def _error_from(self, payload: Any, reply: Reply) -> MjError:
        status = reply.status
        raw = self.http.scrub(reply.text)
        scrub = self.http.scrub
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):  # new-api's own errors
            message = brief(scrub(as_text(payload["error"].get("message"))))
            if status in (401, 403):
                return AuthError(
                    f"The provider rejected the API key: {message or 'unauthorized'}.", status=status, raw=raw
                )
            return classify_refusal(message, status=status, raw=raw)
        if isinstance(payload, dict) and payload.get("success") is False:  # trueai's logic errors
            message = brief(scrub(as_text(payload.get("message"))))
            if any(word in message.lower() for word in _CAP_WORDS):
                return QuotaReached(
                    f"The provider's limit on jobs for this key is reached; try again when it resets. "
                    f"Server said: {message}",
                    status=status,
                    raw=raw,
                )
            return classify_refusal(message, status=status, raw=raw)
        if status in (401, 403):
            text = brief(scrub(payload)) if isinstance(payload, str) else ""
            return AuthError(
                "The provider rejected the API key"
                + (f": {text}" if text else "")
                + ". Check it with `mj-tui key set`.",
                status=status,
                raw=raw,
            )
        if not isinstance(payload, dict) or "code" not in payload:
            return MalformedResponse(f"The provider sent an unexpected reply (HTTP {status}).", status=status, raw=raw)
        return self._code_error(payload, status, raw)

    def _code_error(self, payload: dict[str, Any], status: int, raw: str) -> MjError:
        desc = brief(self.http.scrub(as_text(payload.get("description") or payload.get("message"))))
        props = as_dict(payload.get("properties"))
        code = as_int(payload.get("code"))
        if code is None:
            shown = brief(repr(payload.get("code")), 40)
            return MalformedResponse(f"The provider sent an unknown result code {shown}.", status=status, raw=raw)
        if code == 24:
            word = brief(self.http.scrub(as_text(props.get("bannedWord"))), 60) or None
            return BannedPrompt(
                f"The prompt was refused by moderation{f' (banned word: {word})' if word else ''}. "
                f"Reword it and submit again. Server said: {desc}",
                status=status,
                raw=raw,
                word=word,
            )
        if code == 23 or (code == 9 and ("队列" in desc or "queue" in desc.lower())):
            limit = first_int(desc)
            return QueueFull(
                f"The provider's queue is full: wait for running jobs to finish. Server said: {desc}",
                status=status,
                raw=raw,
                limit=limit,
            )
        if code == 30:
            return RateLimited(f"The provider is rate limiting this key: {desc}", status=status, raw=raw)
        if code == 3:
            if "账号" in desc or "account" in desc.lower():
                return ServerError(
                    f"The provider has no Midjourney account available right now; try later. Server said: {desc}",
                    status=status,
                    raw=raw,
                )
            return TaskNotFound(f"The task is missing or expired at the provider: {desc}", status=status, raw=raw)
        if code == 4 and "quota" in desc.lower():
            return InsufficientBalance(
                f"Not enough quota on this key for the job: top up, then try again. Server said: {desc}",
                status=status,
                raw=raw,
            )
        if code == 4 and ("not_found" in desc.lower() or "no_found" in desc.lower() or "不存在" in desc):
            return TaskNotFound(f"The provider does not know that task: {desc}", status=status, raw=raw)
        if code == 9 or code == 5:
            return ServerError(f"The provider failed: {desc or 'system error'}", status=status, raw=raw)
        error = classify_refusal(desc, status=status, raw=raw)
        return (
            error
            if not isinstance(error, InvalidRequest)
            else InvalidRequest(f"The provider refused the request: {desc or f'code {code}'}", status=status, raw=raw)
        )

    async def _submit(self, verb: str, body: dict[str, Any], mode: Mode) -> SubmitResult:
        reply = await self.http.send_json("POST", self._url(f"submit/{verb}", mode), json=body, idempotent=False)
        payload = reply.payload
        if reply.status < 300 and not _has_verdict(payload):
            # a success status with no readable verdict: the job may exist all the same
            raise submit_problem(f"The provider sent an unexpected reply to the submit (HTTP {reply.status}).")
        if (
            reply.status >= 400
            or not isinstance(payload, dict)
            or "code" not in payload
            or payload.get("success") is False
        ):
            raise self._error_from(payload, reply)
        code = as_int(payload.get("code"))
        if code is None:
            raise self._error_from(payload, reply)
        if code not in (*ACCEPTED, MODAL_NEEDED):
            raise self._code_error(payload, reply.status, self.http.scrub(reply.text))
        props = as_dict(payload.get("properties"))
        result = payload.get("result")
        if isinstance(result, list):  # upload-discord-images; never a task id
            raise submit_problem("The provider returned a list where a task id was expected.")
        queued = as_int(props.get("numberOfQueues"))
        description = brief(self.http.scrub(as_text(payload.get("description"))))
        return SubmitResult(
            task_id=as_id(result, submitted=True),
            modal_required=code == MODAL_NEEDED and _asks_for_dialog(props, description),
            description=description,
            final_prompt=as_text(props.get("finalPrompt")),
            queued_ahead=queued if queued is not None and 0 <= queued < 10**6 else None,
            raw=payload,
        )

    # -- submits ------------------------------------------------------------------
    async def imagine(
        self, prompt: str, *, mode: Mode | None = None, images: Sequence[str] = (), webhook: str | None = None
    ) -> SubmitResult:
        hook = check_webhook(webhook)
        mode = self.check_mode(mode)
        body: dict[str, Any] = {"prompt": self._with_speed_flag(prompt, mode)}
        if images:
            body["base64Array"] = list(images)
        return await self._submit("imagine", _hooked(body, hook), mode)

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
        # the mask belongs to the modal step in this dialect; the caller sends it there
        body: dict[str, Any] = {"taskId": parent.id, "customId": custom_id}
        if remix:  # without it the body is exactly what it always was
            body["enableRemix"] = True
        return await self._submit("action", _hooked(body, hook), parent.mode or self.check_mode(None))

    async def modal(
        self,
        task_id: str,
        *,
        prompt: str,
        mask: str | None = None,
        mode: Mode | None = None,
        webhook: str | None = None,
    ) -> SubmitResult:
        # the task waiting in its dialog is the one that runs: servers keep the callback
        # its action was submitted with and may ignore this one
        hook = check_webhook(webhook)
        body: dict[str, Any] = {"taskId": task_id, "prompt": prompt}
        if mask:
            body["maskBase64"] = mask
        return await self._submit("modal", _hooked(body, hook), mode or self.check_mode(None))

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
        mode = self.check_mode(mode)
        return await self._submit("blend", _hooked({"base64Array": list(images), "dimensions": dims}, hook), mode)

    async def describe(self, image: str, *, mode: Mode | None = None, webhook: str | None = None) -> SubmitResult:
        hook = check_webhook(webhook)
        mode = self.check_mode(mode)
        return await self._submit("describe", _hooked({"base64": image}, hook), mode)

    async def shorten(self, prompt: str, *, mode: Mode | None = None, webhook: str | None = None) -> SubmitResult:
        hook = check_webhook(webhook)
        mode = self.check_mode(mode)
        return await self._submit("shorten", _hooked({"prompt": prompt}, hook), mode)

    async def cancel(self, task_id: str) -> None:
        """``POST …/task/{id}/cancel``, no body: 200 (empty) when done or nothing to do.

        Servers let only their administrators cancel: anyone else gets a plain-text 400,
        quoted in the error. Gateways that do not relay cancel answer 404 or 405."""
        url = self._url(f"task/{path_id(task_id)}/cancel")
        try:
            # asking twice is harmless (a finished task is left alone), so it is retried like a read
            reply = await self.http.send_json("POST", url, idempotent=True)
        except MalformedResponse as exc:  # a body that is not JSON: plain text, as servers send here
            if exc.status is not None and exc.status < 300:
                return
            if exc.status in (404, 405):
                raise Unsupported("This server has no cancel: the job will run to the end.") from None
            if exc.status == 400:
                raise self._cancel_refused(exc.raw or "") from None
            raise
        payload = reply.payload
        if reply.status in (404, 405):
            raise Unsupported("This server has no cancel: the job will run to the end.")
        if reply.status == 400 and (payload is None or isinstance(payload, str)):
            raise self._cancel_refused(payload or "")
        if reply.status >= 400:
            raise self._error_from(payload, reply)
        if isinstance(payload, dict) and _has_verdict(payload):
            code = as_int(payload.get("code"))
            if code is None or code not in ACCEPTED:
                raise self._error_from(payload, reply)

    def _cancel_refused(self, text: str) -> PermissionDenied:
        said = brief(self.http.scrub(text), 200)
        return PermissionDenied(
            "The provider refused to cancel the job: on this server only its administrators may cancel."
            + (f" Server said: “{said}”" if said else ""),
            status=400,
            raw=self.http.scrub(text),
        )

    async def upload_images(self, images: Sequence[str]) -> list[str]:
        reply = await self.http.send_json(
            "POST", self._url("submit/upload-discord-images"), json={"base64Array": list(images)}, idempotent=False
        )
        payload = reply.payload
        if reply.status in (404, 405):
            raise Unsupported("This server has no image upload: files are sent inline instead.")
        if reply.status >= 400 or not isinstance(payload, dict) or payload.get("success") is False:
            raise self._error_from(payload, reply)
        if payload.get("code") not in ACCEPTED or not isinstance(payload.get("result"), list):
            # a failed upload answers {code, description} with no result at all
            raise self._code_error(payload, reply.status, self.http.scrub(reply.text))
        urls = [as_url(u) for u in payload["result"]]
        if not urls or not all(urls):
            raise MalformedResponse("The provider's upload answer held something other than image links.")
        return [u for u in urls if u]

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
        """``POST …/submit/video``. The first frame (`image`) and last (`end`) are links or
        data URLs; `loop` ends where it began (and wins over `end`); `batch` 1, 2 or 4;
        `hd` asks for 720p. With `extend`, that video task's video `index` (1-based) is
        made longer. A server without this endpoint (404 or 405) makes no videos."""
        hook = check_webhook(webhook)
        mode = self.check_mode(mode)
        if motion not in MOTIONS:
            raise InvalidRequest(f"Motion is low or high, not “{brief(motion, 20)}”.")
        if batch not in BATCH_SIZES:
            raise InvalidRequest(f"A video batch holds 1, 2 or 4 videos, not {batch}.")
        if not prompt.strip():
            raise InvalidRequest("A video needs a prompt: what should move, and how.")
        body: dict[str, Any] = {"prompt": prompt, "motion": motion}
        if hd:  # standard definition is what a server makes unasked
            body["videoType"] = VIDEO_TYPES[True]
        if extend is not None:
            if index is None or not 1 <= index <= 4:
                raise InvalidRequest("Extend names one video of the task: 1 to 4.")
            # the server counts the videos from 0
            body.update(action="extend", taskId=checked_id(extend), index=index - 1)
        elif not image:
            raise InvalidRequest("A video starts from a picture: give its first frame.")
        if image:
            body["image"] = image
        if loop:
            body["loop"] = True
        elif end:
            body["endImage"] = end
        if batch != 4:  # four is what Midjourney makes unasked
            body["batchSize"] = batch
        try:
            return await self._submit("video", _hooked(body, hook), mode)
        except MjError as exc:
            # a 404 naming a missing task is about the video to extend; any other 404 or a
            # 405 is a server that does not know the endpoint
            if exc.status == 405 or (exc.status == 404 and not (extend and isinstance(exc, TaskNotFound))):
                raise Unsupported(
                    "This server has no video (it does not know …/submit/video): animate on a provider that offers it."
                ) from None
            raise

    async def edit(
        self, image: str, *, prompt: str, retexture: bool = False, mode: Mode | None = None, webhook: str | None = None
    ) -> SubmitResult:
        """``POST …/submit/edits`` or ``…/submit/retexture``: `image` a link or a data URL."""
        hook = check_webhook(webhook)
        mode = self.check_mode(mode)
        what = "retexture" if retexture else "edit"
        if not prompt.strip() or not image:
            raise InvalidRequest(f"A{'' if retexture else 'n'} {what} needs both a picture and a prompt.")
        try:
            return await self._submit(
                "retexture" if retexture else "edits", _hooked({"prompt": prompt, "image": image}, hook), mode
            )
        except MjError as exc:
            if exc.status in (404, 405) and not isinstance(exc, TaskNotFound):
                raise Unsupported(f"This server has no {what} (it does not know the endpoint).") from None
            raise

    # -- reads --------------------------------------------------------------------
    async def fetch(self, task_id: str) -> Task:
        reply = await self.http.send_json("GET", self._url(f"task/{path_id(task_id)}/fetch"), idempotent=True)
        payload = reply.payload
        if reply.status == 204 or payload is None:
            # Java proxies answer an unknown id with an empty 200, trueai with 204
            raise TaskNotFound(f"The provider does not know task {task_id} (yet).")
        if reply.status >= 400 or not isinstance(payload, dict) or ("code" in payload and "status" not in payload):
            raise self._error_from(payload, reply)
        return parse_one(payload, self.parse_task)

    async def fetch_many(self, ids: Sequence[str]) -> list[Task]:
        ids = [str(i) for i in dict.fromkeys(ids)]
        tasks: list[Task] = []
        for start in range(0, len(ids), LIST_CHUNK):
            chunk = ids[start : start + LIST_CHUNK]
            reply = await self.http.send_json(
                "POST", self._url("task/list-by-condition"), json={"ids": chunk}, idempotent=True
            )
            payload = reply.payload
            if reply.status >= 400 or not isinstance(payload, list):
                if isinstance(payload, dict) and isinstance(payload.get("result"), list):
                    payload = payload["result"]  # some gateways wrap lists
                else:
                    raise self._error_from(payload, reply)
            parsed, skipped = parse_each(payload, self.parse_task)
            self.skipped_tasks += skipped
            tasks.extend(parsed)
        return tasks

    async def image_seed(self, task_id: str) -> str:
        """``GET …/task/{id}/image-seed``: the seed as digits. A task the server does not know
        is TaskNotFound; one not finished yet is refused (HTTP 400); a server without the
        endpoint (405, or a 404 with no result code) reports no seeds."""
        try:
            reply = await self.http.send_json("GET", self._url(f"task/{path_id(task_id)}/image-seed"), idempotent=True)
        except MalformedResponse as exc:
            if exc.status in (404, 405):
                raise Unsupported("This server does not report seeds.") from None
            raise
        payload = reply.payload
        if reply.status == 405 or (reply.status == 404 and not (isinstance(payload, dict) and "code" in payload)):
            raise Unsupported("This server does not report seeds.")
        if reply.status == 400 and isinstance(payload, dict) and as_int(payload.get("code")) == 4:
            said = brief(self.http.scrub(as_text(payload.get("description"))), 200)
            raise InvalidRequest(
                f"Task {task_id} has no seed yet: ask again when it has finished. Server said: {said}",
                status=400,
                raw=self.http.scrub(reply.text),
            )
        if reply.status >= 400 or not isinstance(payload, dict) or payload.get("code") != 1:
            raise self._error_from(payload, reply)
        seed = as_text(payload.get("result"), 40).strip()
        if not seed.isdigit():
            raise MalformedResponse("The provider's seed answer held no seed.")
        return seed

    # -- parsing ------------------------------------------------------------------
    def parse_task(self, data: dict[str, Any]) -> Task:
        props = as_dict(data.get("properties"))
        urls: list[str] = []
        image = as_url(data.get("imageUrl"))
        if image and _is_video_link(image, data):
            # a video task's imageUrl may be the clip itself: its first frame is the picture
            listed = data.get("videoUrls")
            thumbs = listed[:4] if isinstance(listed, list) else []
            image = next((u for u in (as_url(as_dict(v).get("thumbnail")) for v in thumbs) if u), None)
        if image:
            urls.append(image)
        prompt = as_text(data.get("prompt"))
        final = as_text(props.get("finalPrompt")) or as_text(data.get("promptEn")) or prompt
        mode_name = as_text(data.get("mode") or data.get("requestMode"), 20).upper()
        mode = MODES_BY_NAME.get(mode_name)
        if mode is None:
            flag = SPEED_FLAG.search(final) or SPEED_FLAG.search(prompt)
            mode = Mode(flag.group(1).lower()) if flag else None
        return task_from(
            data,
            task_id=as_id(data.get("id")),
            provider=ProviderKind.MJPROXY,
            prompt=prompt,
            final_prompt=final,
            urls=urls,
            buttons=parse_buttons(data.get("buttons")),
            mode=mode,
            parent_id=as_text(data.get("parentId"), 200).strip() or None,
        )
