"""Dialect "b": midjourney-proxy behind a new-api gateway (MaxAPI; seed 003).

Three answer shapes, as on the real stack:
- submit results {code, description, result, properties} from the proxy
  (HTTP 200; HTTP 404 for code 3 on action/modal);
- gateway relay errors {description, type:"upstream_error", code}
  (HTTP 400; 429 for code 30): task_no_found, quota_not_enough, bad bodies;
- gateway auth errors {error:{message, type:"new_api_error", code:""}} (HTTP 401).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import NotRequired, TypeAlias, TypedDict
from urllib.parse import urlsplit

from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import art, video
from .buttons import DESCRIBE, SHORTEN, VIDEO_KINDS
from .engine import Engine
from .images import proxy_image_url, upload_url, video_thumbnail_url, video_url
from .model import MJPROXY, ClientFields, EmulatorError, Submitted, Task
from .wire import Body, base_url, ms, read_json

MODE_PREFIXES = {"": None, "/mj-fast": "FAST", "/mj-relax": "RELAX", "/mj-turbo": "TURBO"}
FLAGS = {"FAST": "--fast", "RELAX": "--relax", "TURBO": "--turbo"}
DIMENSIONS = {"PORTRAIT": (2, 3), "SQUARE": (1, 1), "LANDSCAPE": (3, 2)}
BOT_TYPES = {"", "MID_JOURNEY", "NIJI_JOURNEY"}
INSTANCE = {"discordInstanceId": "1118138338562560102"}
_SPEED_FLAG = re.compile(r"--(fast|relax|turbo)\b", re.I)

# One route: (engine, key, body, request, mode, prefixed) -> the answer. A refusal it
# raises as EmulatorError becomes a submit result.
Verb: TypeAlias = Callable[[Engine, str, Body, Request, str, bool], Response]


class ButtonJSON(TypedDict):
    customId: str
    emoji: str
    label: str
    type: int
    style: int


class TaskProperties(TypedDict):
    finalPrompt: str
    finalZhPrompt: str


class VideoJSON(TypedDict):
    url: str
    thumbnail: str


class TaskJSON(TypedDict):
    id: str
    action: str
    customId: str
    botType: str
    prompt: str
    promptEn: str
    description: str
    state: str
    submitTime: int
    startTime: int | None
    finishTime: int | None
    imageUrl: str | None
    status: str
    progress: str
    failReason: str
    buttons: list[ButtonJSON]
    maskBase64: str
    properties: TaskProperties
    parentId: str | None
    mode: str
    seed: str | None
    baseImageUrl: NotRequired[str | None]
    videoUrl: NotRequired[str | None]
    videoUrls: NotRequired[list[VideoJSON] | None]
    videoType: NotRequired[str | None]
    contentType: NotRequired[str | None]


def submit_result(
    code: int,
    description: str,
    result: object = None,
    properties: Mapping[str, object] | None = None,
    status: int = 200,
) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "description": description,
            "result": result,
            "properties": properties if properties is not None else {},
        },
        status_code=status,
    )


def relay_error(description: str, code: int = 4, status: int = 400) -> JSONResponse:
    # new-api formats these as "<description> <result>", hence the trailing space.
    return JSONResponse({"description": description, "type": "upstream_error", "code": code}, status_code=status)


def auth_error(message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "new_api_error", "code": ""}}, status_code=401)


def api_key(request: Request) -> str:
    """new-api TokenAuth: Authorization (Bearer optional), else mj-api-secret."""

    def strip(value: str) -> str:
        value = value.strip()
        return value[7:].strip() if value.lower().startswith("bearer ") else value

    key = strip(request.headers.get("authorization", ""))
    if not key or key == "midjourney-proxy":
        key = strip(request.headers.get("mj-api-secret", ""))
    return key


def task_json(engine: Engine, task: Task, base: str, now: float | None = None) -> TaskJSON:
    """Seed 003's fields plus parentId and mode (as trueai exposes them)."""
    v = engine.view(task, now)
    ok = v.status == "SUCCESS"
    recipe = task.recipe
    image_url: str | None
    if recipe[0] == "describe":  # describe shows the uploaded source image
        image_url = upload_url(base, recipe[1], task.submit_at)
    else:
        image_url = proxy_image_url(base, task) if ok and engine.has_image(task) else None
    final = task.result_text if ok and task.kind in (DESCRIBE, SHORTEN) else task.final_prompt
    out: TaskJSON = {
        "id": task.id,
        "action": task.action,
        "customId": "",  # the gateway DTO never fills these three (proxy-api §5.2, see docs/wire-sources.md)
        "botType": "",
        "prompt": task.prompt,
        "promptEn": task.prompt_en,
        # Seed 003 shows "submit_success" (the gateway's submit description), not "/imagine ...".
        "description": "Waiting for window confirm" if v.status == "MODAL" else "submit_success",
        "state": task.state,
        "submitTime": ms(task.submit_at),
        "startTime": ms(task.submitted_at) if v.started else None,
        "finishTime": ms(task.end_at) if v.finished else None,
        "imageUrl": image_url,
        "status": v.status,
        "progress": "" if v.status == "FAILURE" else f"{v.progress}%",
        "failReason": task.failure or "",
        # Seed 003 (MaxAPI) shows style 2 on every button, U1-U4 included; the reference's
        # "style 1 for U" is older Discord behaviour. The seed wins.
        "buttons": [
            {"customId": b.custom_id, "emoji": b.emoji, "label": b.label, "type": 2, "style": 2}
            for b in engine.buttons(task)
        ]
        if ok
        else [],
        "maskBase64": "",
        "properties": {"finalPrompt": final, "finalZhPrompt": ""},
        "parentId": task.parent_id,
        "mode": task.mode,
        "seed": task.seed,
    }
    if task.source:
        out["baseImageUrl"] = _source_url(base, task.source)
    if task.kind in VIDEO_KINDS:
        videos: list[VideoJSON] = [
            {"url": video_url(base, task, n), "thumbnail": video_thumbnail_url(base, task, n)}
            for n in range(task.batch)
        ]
        out["videoUrl"] = videos[0]["url"] if ok else None
        out["videoUrls"] = videos if ok else None
        out["videoType"] = task.video_type or None
        out["contentType"] = video.MEDIA_TYPES[video.FORMAT] if ok else None
    return out


def _source_url(base: str, source: str) -> str:
    return upload_url(base, source.removeprefix("upload:"), 0.0) if source.startswith("upload:") else source


def submitted(sub: Submitted) -> JSONResponse:
    task = sub.task
    if sub.modal:  # no instance ids here, as on the real server
        return submit_result(
            21, "Waiting for window confirm", task.id, {"finalPrompt": task.final_prompt, "remix": True}
        )
    if sub.queued:
        return submit_result(
            22, f"排队中，前面还有{sub.queued_ahead}个任务", task.id, {**INSTANCE, "numberOfQueues": sub.queued_ahead}
        )
    return submit_result(1, "提交成功", task.id, dict(INSTANCE))


def error_response(exc: EmulatorError, prompt_en: str = "") -> JSONResponse:
    kind = exc.kind
    if kind == "banned":
        return submit_result(
            24,
            "可能包含敏感词",
            None,
            {"promptEn": prompt_en or exc.info.get("prompt", ""), "bannedWord": exc.info["word"]},
        )
    if kind == "balance":
        return relay_error("quota_not_enough ")
    if kind == "queue_full":
        return submit_result(23, "队列已满，请稍后尝试", None, dict(INSTANCE))
    if kind == "not_found":
        return submit_result(3, "关联任务不存在或已失效", status=404)
    if kind == "state":
        return submit_result(4, "关联任务状态错误")
    if kind == "button":
        return submit_result(4, f"unknown_action:{exc.info['custom_id']}")
    if kind == "limit":
        return logic_error(exc.message)
    if kind == "no_account":
        return submit_result(3, "无可用的账号实例")
    if kind == "failure":
        return submit_result(9, exc.message)
    return submit_result(4, exc.message)


def logic_error(message: str) -> JSONResponse:
    """The body midjourney-proxy answers a refused limit with on its newer endpoints (HTTP
    200): no result code of the submit kind at all."""
    return JSONResponse({"success": False, "code": -1, "message": message, "timestamp": str(time.time_ns() // 100)})


def _field(body: Body, name: str) -> str:
    value = body.get(name)
    return "" if value is None else str(value).strip()


def _images(value: object, *, low: int, high: int, bad_count: str) -> list[bytes]:
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise EmulatorError("invalid", bad_count)
    try:
        return [art.decode_image(v) for v in value]
    except ValueError:
        raise EmulatorError("invalid", "base64格式错误") from None


#: the longest notifyHook midjourney-proxy takes
HOOK_MAX = 2000


def _common(body: Body) -> ClientFields:
    hook = _field(body, "notifyHook")
    if len(hook) > HOOK_MAX:
        raise EmulatorError("invalid", f"notifyHook长度不能超过{HOOK_MAX}")  # "may not be longer than"
    return {"state": _field(body, "state"), "webhook": hook or None}


def imagine(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    prompt = _field(body, "prompt")
    if not prompt:
        raise EmulatorError("invalid", "prompt不能为空")
    if _field(body, "botType").upper() not in BOT_TYPES:
        raise EmulatorError("invalid", "botType参数错误")
    refs = body.get("base64Array") or []
    raws = _images(refs, low=0, high=10, bad_count="base64Array参数错误") if refs else []
    # The proxy uploads reference images and puts their URLs in front of the prompt.
    urls = [upload_url(base_url(request), engine.add_upload(raw), engine.clock.now()) for raw in raws]
    prompt_en = " ".join([*urls, prompt])
    try:
        _limits(engine, key)
    except EmulatorError as exc:  # imagine answers its limits as a refusal code of its own
        return submit_result(4, exc.message)
    if prefixed and not _SPEED_FLAG.search(prompt):
        prompt_en += f" {FLAGS[mode]}"  # seed 003: "a sunny boy" on /mj-relax -> "a sunny boy --relax"
    try:
        return submitted(engine.imagine(key, MJPROXY, prompt, mode, prompt_en=prompt_en, **_common(body)))
    except EmulatorError as exc:
        return error_response(exc, prompt_en)


def action(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    task_id, custom_id = _field(body, "taskId"), _field(body, "customId")
    if not task_id:
        raise EmulatorError("invalid", "taskId不能为空")
    if not custom_id:
        raise EmulatorError("invalid", "customId不能为空")
    remix = body.get("enableRemix") is True  # the client wants the prompt dialog
    return submitted(engine.action(key, MJPROXY, task_id, custom_id, mode, remix=remix, **_common(body)))


def modal(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    task_id = _field(body, "taskId")
    if not task_id:
        raise EmulatorError("invalid", "taskId不能为空")
    mask_text = _field(body, "maskBase64")
    mask = None
    if mask_text:
        try:
            mask = art.decode_image(mask_text)
        except ValueError:
            raise EmulatorError("invalid", "maskBase64格式错误: expected a PNG data URL") from None
    return submitted(engine.submit_modal(key, task_id, _field(body, "prompt"), mask))


def blend(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    raws = _images(body.get("base64Array"), low=2, high=5, bad_count="图片参数错误，2~5张图片")
    dimensions = (_field(body, "dimensions") or "SQUARE").upper()
    if dimensions not in DIMENSIONS:
        raise EmulatorError("invalid", "dimensions参数错误: PORTRAIT, SQUARE or LANDSCAPE")
    sub = engine.blend(key, MJPROXY, raws, DIMENSIONS[dimensions], mode, **_common(body))
    return submitted(sub)


def describe(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    if not _field(body, "base64"):
        raise EmulatorError("invalid", "base64不能为空")
    try:
        raw = art.decode_image(_field(body, "base64"))
    except ValueError:
        raise EmulatorError("invalid", "base64格式错误") from None
    return submitted(engine.describe(key, MJPROXY, raw, mode, **_common(body)))


def shorten(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    prompt = _field(body, "prompt")
    if not prompt:
        raise EmulatorError("invalid", "prompt不能为空")
    return submitted(engine.shorten(key, MJPROXY, prompt, mode, **_common(body)))


def upload(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    if not engine.config.proxy_uploads:
        raise EmulatorError("invalid", NO_UPLOADS)
    raws = _images(body.get("base64Array"), low=1, high=10, bad_count="base64 参数错误")
    now, base = engine.clock.now(), base_url(request)
    return submit_result(1, "提交成功", [upload_url(base, engine.add_upload(raw), now) for raw in raws])


NO_PARENT = "关联任务不存在或已失效"  # "the related task does not exist or has expired"
BAD_BASE64 = "base64格式错误"
NO_UPLOADS = "禁止上传"  # "uploads forbidden"
VIDEO_TYPES = {"vid_1.1_i2v_480", "vid_1.1_i2v_720"}


def _limits(engine: Engine, key: str) -> None:
    """The per-key limits checked before a job is made (a daily cap here)."""
    cap = engine.config.proxy_daily_limit
    if cap is not None and engine.count(key, MJPROXY) >= cap:
        raise EmulatorError("limit", "用户今日绘图次数已达上限")  # "the user's drawings for today reached the cap"


def _picture(engine: Engine, request: Request, value: str) -> tuple[bytes, str]:
    """The image a request names: (bytes, its baseImageUrl). A link to this emulator's own
    pictures is read here; any other link stands for a picture elsewhere, which the
    emulator never fetches, so a colour from the link stands in for it. Base64 (or a data
    URL) is uploaded. ValueError when it is neither."""
    if value.lower().startswith(("http://", "https://")):
        return _linked(engine, value), value
    if not engine.config.proxy_uploads:
        raise ValueError("uploads forbidden")
    raw = art.decode_image(value)
    return raw, "upload:" + engine.add_upload(raw)


def _linked(engine: Engine, url: str) -> bytes:
    path = urlsplit(url).path
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "image" and parts[-3:-2] == ["mj"]:
        task = engine.tasks.get((MJPROXY, parts[-1]))
        if task is not None and engine.has_image(task) and engine.view(task).status == "SUCCESS":
            return engine.render_png(task)
    if parts[0] == "attachments" and len(parts) == 4:
        name = parts[3].rsplit(".", 1)[0].rsplit("_", 1)[-1]
        if name in engine.uploads:
            return engine.uploads[name]
        task = engine.by_hash.get(name)
        if task is not None and engine.has_image(task) and engine.view(task).status == "SUCCESS":
            return engine.render_png(task)
    rgb = art.hsv(art.family_of(url), 0.5, 0.8)
    return art.to_png(Image.new("RGB", (64, 64), rgb))


def video_submit(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    """``/mj/submit/video``: checked in the proxy's order, the prompt built as it builds it."""
    if not engine.config.video_enabled:
        raise EmulatorError("invalid", "视频功能未启用")  # "video is not enabled"
    prompt = _field(body, "prompt")
    if not prompt:
        raise EmulatorError("invalid", "Prompt 不能为空")
    image, end_image = _field(body, "image"), _field(body, "endImage")
    try:
        first = _picture(engine, request, image) if image else None
        end = _picture(engine, request, end_image) if end_image else None
    except ValueError:
        raise EmulatorError("invalid", BAD_BASE64) from None
    _limits(engine, key)
    task_id, verb = _field(body, "taskId"), _field(body, "action")
    parent = None
    if task_id:
        if verb != "extend":
            raise EmulatorError("invalid", "任务类型错误")  # "wrong task type"
        parent = engine.get(key, MJPROXY, task_id)
        if parent is None:
            return submit_result(3, NO_PARENT, status=404)
        if engine.view(parent).status != "SUCCESS" or parent.kind not in VIDEO_KINDS:
            raise EmulatorError("state", "关联任务状态错误")
    elif verb.lower() == "extend":
        return submit_result(3, "目标任务不存在")  # "the target task does not exist"
    video_type = _field(body, "videoType") or "vid_1.1_i2v_480"
    if video_type not in VIDEO_TYPES or (video_type.endswith("720") and not engine.config.hd_video):
        raise EmulatorError("no_account", "no account for this video")
    motion = _field(body, "motion") or "low"
    batch = body.get("batchSize")
    batch_size = batch if isinstance(batch, int) and not isinstance(batch, bool) and batch in (1, 2, 4) else 4
    loop = body.get("loop") is True
    start_url = _source_url(base_url(request), first[1]) if first else ""
    p = prompt
    if start_url and start_url not in p:
        p = f"{start_url} {p}"
    low = p.lower()
    if "--video" not in low:
        p += " --video 1"
    if loop and "--end" not in p.lower():
        p += " --end loop"
    if end and "--end" not in p.lower():
        p += " --end " + _source_url(base_url(request), end[1])
    if "--motion" not in p.lower():
        p += f" --motion {motion}"
    if batch_size in (1, 2) and "--bs" not in p.lower():
        p += f" --bs {batch_size}"
    if parent is not None:
        index = body.get("index")
        index = index if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < parent.batch else 0
        assert parent.recipe[0] == "video"
        picture, offset = parent.recipe[1], parent.recipe[2] + index + 4
    elif first is not None:
        picture, offset = first[0], 0
    else:  # no first frame: the proxy lets it through, so a frame is drawn from the prompt
        picture, offset = art.to_png(art.grid((128, 128), art.family_of(prompt), prompt)), 0
    sub = engine.video(
        key,
        MJPROXY,
        p,
        picture,
        mode,
        motion=motion,
        batch=batch_size,
        source=first[1] if first else (parent.source if parent else ""),
        video_type=video_type,
        parent=parent,
        offset=offset,
        description=f"/video {p}" if parent is None else "/video extend",
        **_common(body),
    )
    return submitted(sub)


def _edit(retexture: bool) -> Verb:
    def handle(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
        prompt, image = _field(body, "prompt"), _field(body, "image")
        if not prompt or not image:
            raise EmulatorError("invalid", "image或prompt不能为空")  # "image or prompt may not be empty"
        if not engine.config.proxy_uploads:
            raise EmulatorError("invalid", NO_UPLOADS)  # refused even for a link, as the proxy does
        try:
            raw, source = _picture(engine, request, image)
        except ValueError:
            raise EmulatorError("invalid", BAD_BASE64) from None
        _limits(engine, key)
        url = _source_url(base_url(request), source)
        return submitted(engine.edit(key, MJPROXY, prompt, raw, mode, retexture=retexture, source=url, **_common(body)))

    return handle


def fetch(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    task = engine.get(key, MJPROXY, request.path_params["task_id"])
    if task is None:
        return relay_error("task_no_found ")
    return JSONResponse(task_json(engine, task, base_url(request)))


def list_by_condition(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    ids = body.get("ids") or []
    if not isinstance(ids, list):
        return relay_error("bind_request_body_failed ")
    now, base = engine.clock.now(), base_url(request)
    found = (engine.get(key, MJPROXY, i) for i in ids)
    return JSONResponse([task_json(engine, t, base, now) for t in found if t is not None])


def image_seed(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    task = engine.get(key, MJPROXY, request.path_params["task_id"])
    if task is None:
        return submit_result(3, NO_PARENT, status=404)
    if task.seed is None and (engine.view(task).status != "SUCCESS" or not engine.has_image(task)):
        return submit_result(4, "关联任务状态错误", status=400)
    if task.seed is None:  # from now on the task shows it too
        task.seed = str(int(task.hash.replace("-", "")[:8], 16))
    return submit_result(1, "成功", task.seed)


#: what midjourney-proxy answers a cancel by anyone but its administrators ("demo mode,
#: operation forbidden"), as plain text
NOT_ADMIN = "演示模式，禁止操作"


def cancel(engine: Engine, key: str, body: Body, request: Request, mode: str, prefixed: bool) -> Response:
    """An unfinished task becomes a FAILURE ("取消任务"); anything else is left alone. Either
    way the answer is an empty 200."""
    if not engine.config.proxy_admin:
        return PlainTextResponse(NOT_ADMIN, status_code=400)
    engine.cancel(key, MJPROXY, request.path_params["task_id"])
    return Response(status_code=200)


def _endpoint(fn: Verb, prefix_mode: str | None, *, has_body: bool = True) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        engine: Engine = request.app.state.engine
        key = api_key(request)
        if not key:
            return auth_error("未提供令牌 (no token provided)")
        account = engine.account(key)
        if account is None:
            return auth_error("无效的令牌 (invalid token)")
        if not account.mj_permission:
            return auth_error("该令牌无权访问模型 midjourney (token may not use midjourney)")
        body: Body = {}
        if has_body:
            try:
                body = await read_json(request)
            except ValueError:
                return relay_error("bind_request_body_failed ")
        mode = prefix_mode
        if mode is None:  # no path prefix: a speed flag in the prompt decides, else FAST
            flag = _SPEED_FLAG.search(_field(body, "prompt"))
            mode = flag[1].upper() if flag else "FAST"
        try:
            with engine.lock:
                return fn(engine, key, body, request, mode, prefix_mode is not None)
        except EmulatorError as exc:
            return error_response(exc)
        finally:
            request.app.state.hooks.take(base_url(request))  # a task submitted with notifyHook

    return handler


def routes() -> list[Route]:
    posts: dict[str, Verb] = {
        "submit/imagine": imagine,
        "submit/action": action,
        "submit/modal": modal,
        "submit/blend": blend,
        "submit/describe": describe,
        "submit/shorten": shorten,
        "submit/upload-discord-images": upload,
        "submit/video": video_submit,
        "submit/edits": _edit(retexture=False),
        "submit/edit": _edit(retexture=False),
        "submit/retexture": _edit(retexture=True),
        "task/list-by-condition": list_by_condition,
    }
    bodiless: dict[str, Verb] = {"task/{task_id}/cancel": cancel}
    gets: dict[str, Verb] = {"task/{task_id}/fetch": fetch, "task/{task_id}/image-seed": image_seed}
    out = []
    for prefix, mode in MODE_PREFIXES.items():
        out += [Route(f"{prefix}/mj/{p}", _endpoint(fn, mode), methods=["POST"]) for p, fn in posts.items()]
        out += [
            Route(f"{prefix}/mj/{p}", _endpoint(fn, mode, has_body=False), methods=["GET"]) for p, fn in gets.items()
        ]
        out += [
            Route(f"{prefix}/mj/{p}", _endpoint(fn, mode, has_body=False), methods=["POST"])
            for p, fn in bodiless.items()
        ]
    return out
