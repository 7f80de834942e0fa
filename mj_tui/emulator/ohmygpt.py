"""Dialect "a": the OhMyGPT Midjourney API (seeds 000-002 and 004 of docs/wire-sources.md).

Every answer is the envelope {statusCode, message, data}. Failures are HTTP 400
with statusCode 400 and a human message; auth failures are HTTP 401.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypedDict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import art
from .buttons import DESCRIBE
from .engine import Engine
from .images import discord_url, s3_key
from .model import OHMYGPT, ClientFields, EmulatorError, Task
from .wire import Body, as_list, base_url, iso, read_body, text

PREFIX = "/api/v1/ai/draw/mj"
MODES = ("FAST", "NORMAL")
DIMENSIONS = {"PORTRAIT": (2, 3), "SQUARE": (1, 1), "LANDSCAPE": (3, 2)}
INVALID_KEY = "Unauthorized: invalid api key"
NO_PERMISSION = (
    "Unauthorized: this API key does not have the midjourney permission; enable it in the key's permission settings"
)
NOT_ADMIN = "Unauthorized: this API key does not have admin permission"

# One API verb: it reads the body and returns the envelope's data, or raises EmulatorError.
Verb: TypeAlias = Callable[[Engine, str, Body, Request], object]


class ActionJSON(TypedDict):
    customId: str
    emoji: str
    label: str


class TaskJSON(TypedDict):
    taskId: int
    taskType: str
    status: str
    action: str
    progress: str
    description: str
    prompt: str
    failReason: str | None
    submitTime: str
    startTime: str | None
    finishTime: str | None
    webhookUrl: str | None
    imageDcUrl: str | None
    imageS3Url: str | None
    actions: list[ActionJSON]


class TaskPage(TypedDict):
    total: int
    tasks: list[TaskJSON]


def envelope(data: object, message: str = "Success", status: int = 200) -> JSONResponse:
    return JSONResponse({"statusCode": status, "message": message, "data": data}, status_code=status)


def fail(message: str, status: int = 400) -> JSONResponse:
    return envelope(None, message, status)


def bearer(request: Request) -> str:
    m = re.match(r"\s*Bearer\s+(\S+)", request.headers.get("authorization", ""), re.I)
    return m[1] if m else ""


def task_json(engine: Engine, task: Task, base: str, now: float | None = None) -> TaskJSON:
    """The 15-field task object of seed 000."""
    v = engine.view(task, now)
    ok = v.status == "SUCCESS"
    image = ok and engine.has_image(task)
    described = ok and task.kind == DESCRIBE  # describe output lands in prompt (and description)
    return {
        "taskId": int(task.id),
        "taskType": task.mode,
        "status": v.status,
        "action": task.action,
        "progress": f"{v.progress}%",
        "description": task.result_text if described else (task.description or f"/imagine {task.prompt}"),
        "prompt": task.result_text if described else task.prompt,
        "failReason": task.failure if v.status == "FAILURE" else None,
        "submitTime": iso(task.submit_at),
        "startTime": iso(task.submitted_at) if v.started else None,
        "finishTime": iso(task.end_at) if v.finished else None,
        "webhookUrl": task.webhook,
        "imageDcUrl": discord_url(base, task) if image else None,
        "imageS3Url": s3_key(task) if image else None,
        "actions": [{"customId": b.custom_id, "emoji": b.emoji, "label": b.label} for b in engine.buttons(task)]
        if ok
        else [],
    }


def _mode(body: Body) -> str:
    mode = (text(body, "type") or "FAST").upper()  # documented default: FAST
    if mode not in MODES:
        raise EmulatorError("invalid", "Invalid type: must be FAST or NORMAL")
    return mode


def _image(value: object, what: str) -> bytes:
    try:
        return art.decode_image(value)
    except ValueError:
        raise EmulatorError("invalid", f"Invalid {what}: expected a base64 image or data URL") from None


def _task_id(body: Body) -> str:
    tid = text(body, "taskId")
    if not tid.isdigit():
        raise EmulatorError("invalid", "Invalid taskId: expected a numeric task id")
    return tid


def _webhook(body: Body) -> ClientFields:
    return {"webhook": text(body, "webhook") or None}


def imagine(engine: Engine, key: str, body: Body, request: Request) -> int:
    prompt = text(body, "prompt")
    if not prompt:
        raise EmulatorError("invalid", "Invalid prompt: prompt is required")
    mode = _mode(body)
    for i, ref in enumerate(as_list(body.get("base64Array")), 1):
        _image(ref, f"base64Array item {i}")
    sub = engine.imagine(key, OHMYGPT, prompt, mode, description=f"/imagine {prompt}", **_webhook(body))
    return int(sub.task.id)


def action(engine: Engine, key: str, body: Body, request: Request) -> int:
    tid = _task_id(body)
    custom_id = text(body, "customId")
    if not custom_id:
        raise EmulatorError("invalid", "Invalid customId: customId is required")
    mode = _mode(body)
    mask_text = text(body, "base64Mask")  # the doc sample sends base64Mask='' for non-region actions
    mask = _image(mask_text, "base64Mask") if mask_text else None
    sub = engine.action(key, OHMYGPT, tid, custom_id, mode, mask=mask, **_webhook(body))
    return int(sub.task.id)


def blend(engine: Engine, key: str, body: Body, request: Request) -> int:
    images = as_list(body.get("base64Array"))
    if not 2 <= len(images) <= 5:
        raise EmulatorError("invalid", "Invalid base64Array: blend needs 2 to 5 images")
    dimensions = (text(body, "dimensions") or "SQUARE").upper()
    if dimensions not in DIMENSIONS:
        raise EmulatorError("invalid", "Invalid dimensions: must be PORTRAIT, SQUARE or LANDSCAPE")
    mode = _mode(body)
    raws = [_image(img, f"base64Array item {i}") for i, img in enumerate(images, 1)]
    sub = engine.blend(
        key,
        OHMYGPT,
        raws,
        DIMENSIONS[dimensions],
        mode,
        description=f"/blend {len(raws)} images {dimensions}",
        **_webhook(body),
    )
    return int(sub.task.id)


def describe(engine: Engine, key: str, body: Body, request: Request) -> int:
    if not text(body, "base64"):
        raise EmulatorError("invalid", "Invalid base64: an image is required")
    raw = _image(text(body, "base64"), "base64")
    mode = _mode(body)
    sub = engine.describe(key, OHMYGPT, raw, mode, description="/describe", **_webhook(body))
    return int(sub.task.id)


def query(engine: Engine, key: str, body: Body, request: Request) -> TaskJSON:
    tid = _task_id(body)
    task = engine.get(key, OHMYGPT, tid)
    if task is None:
        raise EmulatorError("not_found", f"Task not found: {tid}")
    return task_json(engine, task, base_url(request))


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise EmulatorError("invalid", f"Invalid {name}: expected an integer") from None


def query_tasks(engine: Engine, key: str, body: Body, request: Request) -> TaskPage:
    page = _int_param(request, "page", 1)
    size = _int_param(request, "pageSize", 10)
    if page < 1:
        raise EmulatorError("invalid", "Invalid page: must be >= 1")
    if not 5 <= size <= 20:
        raise EmulatorError("invalid", "Invalid pageSize: must be between 5 and 20")
    now = engine.clock.now()
    total, tasks = engine.page(key, OHMYGPT, page, size)
    base = base_url(request)
    # Seed 000's example shows a single task here; its schema says {total, tasks}. We follow the schema.
    return {"total": total, "tasks": [task_json(engine, t, base, now) for t in tasks]}


def _mj_endpoint(fn: Verb) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        engine: Engine = request.app.state.engine
        key = bearer(request)
        account = engine.account(key)
        if account is None:
            return fail(INVALID_KEY, 401)
        if not account.mj_permission:
            return fail(NO_PERMISSION, 401)
        try:
            body = await read_body(request)
        except ValueError:
            return fail("Invalid request body: send JSON or form fields")
        if text(body, "model") != "midjourney":
            return fail("Invalid model: model must be 'midjourney'")
        try:
            with engine.lock:
                return envelope(fn(engine, key, body, request))
        except EmulatorError as exc:
            return fail(exc.message)
        finally:
            request.app.state.hooks.take(base_url(request))  # a task submitted with a webhook

    return handler


async def balance(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    key = bearer(request)
    account = engine.account(key)
    if account is None:
        return fail(INVALID_KEY, 401)
    if not account.admin:
        return fail(NOT_ADMIN, 401)
    with engine.lock:
        engine.settle()
        data = {"balance": f"{account.balance:.2f}", "free_balance": "0.00"}
    return envelope(data, "get user balance success")


def routes() -> list[Route]:
    verbs: dict[str, Verb] = {
        "imagine": imagine,
        "action": action,
        "blend": blend,
        "describe": describe,
        "query": query,
        "query-mj-tasks": query_tasks,
    }
    out = [Route(f"{PREFIX}/{verb}", _mj_endpoint(fn), methods=["POST"]) for verb, fn in verbs.items()]
    out.append(Route("/api/v1/user/admin/balance", balance, methods=["POST"]))
    return out
