"""Where images live: Discord-like attachment links, OhMyGPT object storage and
the new-api style /mj/image/{id} proxy. None of these need an API key.

Discord attachment links are signed and expire a day after the job finished
(`?ex=` is the hex expiry, as on the real CDN), which lets clients exercise
their fallback to the object-storage copy. Uploaded images never expire.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re

from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from . import video
from .buttons import VIDEO_KINDS
from .engine import Engine
from .model import MJPROXY, Task

CHANNEL = "1136958712796430388"  # the channel in seed 000's imageDcUrl
UPLOAD_CHANNEL = "1118138338562560102"
DISCORD_EPOCH_MS = 1420070400000
LINK_TTL = 24 * 3600
_SECRET = b"mj-tui-emulator"
_SLUG = re.compile(r"[^a-z0-9]+")
NOT_AVAILABLE = "This content is no longer available."


def _snowflake(at: float, salt: str) -> int:
    low_bits = int(hashlib.md5(salt.encode()).hexdigest()[:5], 16) & 0x3FFFFF
    return ((int(at * 1000) - DISCORD_EPOCH_MS) << 22) | low_bits


def _sign(path: str, ex: int) -> str:
    return hmac.new(_SECRET, f"{path}|{ex}".encode(), hashlib.sha256).hexdigest()


def discord_url(base: str, task: Task) -> str:
    slug = _SLUG.sub("_", task.prompt.lower()).strip("_")[:40] or "image"
    path = f"/attachments/{CHANNEL}/{_snowflake(task.end_at, task.hash)}/mjtui_{slug}_{task.hash}.png"
    ex = int(task.end_at + LINK_TTL)
    return f"{base}{path}?ex={ex:x}&is={int(task.end_at):x}&hm={_sign(path, ex)}&"


def upload_url(base: str, name: str, at: float) -> str:
    return f"{base}/attachments/{UPLOAD_CHANNEL}/{_snowflake(at, name)}/{name}.png"


def s3_key(task: Task) -> str:
    return f"mj/{task.hash}.png"


def proxy_image_url(base: str, task: Task) -> str:
    return f"{base}/mj/image/{task.id}"


def video_url(base: str, task: Task, n: int) -> str:
    """Video `n` (0-based) of a video task, in the format this emulator writes."""
    return f"{base}/mj/video/{task.id}/{n}.{video.FORMAT}"


def video_thumbnail_url(base: str, task: Task, n: int) -> str:
    return f"{base}/mj/video/{task.id}/{n}.png"


def _media_type(raw: bytes) -> str:
    try:
        with Image.open(io.BytesIO(raw)) as img:
            return Image.MIME.get(img.format or "", "application/octet-stream")
    except Exception:
        return "application/octet-stream"


async def _task_png(request: Request, task: Task | None) -> Response:
    engine: Engine = request.app.state.engine
    if task is None or task.start_at is None or not engine.has_image(task) or engine.view(task).status != "SUCCESS":
        return PlainTextResponse("404: Not Found", status_code=404)
    data = await run_in_threadpool(engine.render_png, task)  # keep the event loop (and the demo UI) responsive
    return Response(data, media_type="image/png", headers={"Cache-Control": "public, max-age=31536000"})


async def attachment(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    stem = request.path_params["filename"].rsplit(".", 1)[0]
    key = stem.rsplit("_", 1)[-1]
    raw = engine.uploads.get(key)
    if raw is not None:
        return Response(raw, media_type=_media_type(raw))
    task = engine.by_hash.get(key)
    if task is None:
        return PlainTextResponse("404: Not Found", status_code=404)
    try:
        ex = int(request.query_params.get("ex", ""), 16)
    except ValueError:
        ex = -1
    signed = hmac.compare_digest(request.query_params.get("hm", ""), _sign(request.url.path, ex))
    if not signed or engine.clock.now() > ex:
        return PlainTextResponse(NOT_AVAILABLE, status_code=403)
    return await _task_png(request, task)


async def object_storage(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    m = re.fullmatch(r"mj/([0-9a-f-]{36})\.png", request.path_params["key"])
    task = engine.by_hash.get(m[1]) if m else None
    return await _task_png(request, task)


async def proxy_image(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    task = engine.tasks.get((MJPROXY, request.path_params["task_id"]))
    return await _task_png(request, task)


async def proxy_video(request: Request) -> Response:
    """A finished video task's video n, or its first frame (``n.png``); 404 otherwise."""
    engine: Engine = request.app.state.engine
    task = engine.tasks.get((MJPROXY, request.path_params["task_id"]))
    m = re.fullmatch(r"(\d)\.(\w+)", request.path_params["name"])
    ok = task is not None and task.kind in VIDEO_KINDS and engine.view(task).status == "SUCCESS"
    if task is None or not ok or m is None or int(m[1]) >= task.batch or m[2] not in ("png", video.FORMAT):
        return PlainTextResponse("404: Not Found", status_code=404)
    n = int(m[1])
    if m[2] == "png":
        data = await run_in_threadpool(engine.video_frame, task, n)
        return Response(data, media_type="image/png")
    data = await run_in_threadpool(engine.render_video, task, n)
    return Response(data, media_type=video.MEDIA_TYPES[video.FORMAT])


def routes() -> list[Route]:
    out = [
        Route("/attachments/{channel}/{message}/{filename}", attachment, methods=["GET", "HEAD"]),
        Route("/api/v1/content/mj-generated/{key:path}", object_storage, methods=["GET", "HEAD"]),
    ]
    for prefix in ("", "/mj-fast", "/mj-relax", "/mj-turbo"):
        out.append(Route(f"{prefix}/mj/image/{{task_id}}", proxy_image, methods=["GET", "HEAD"]))
        out.append(Route(f"{prefix}/mj/video/{{task_id}}/{{name}}", proxy_video, methods=["GET", "HEAD"]))
    return out
