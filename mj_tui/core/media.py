"""Video, edit, retexture, uploads and seeds: the service's newer doors, kept here so that
service.py stays about the common path. Each function takes the service and goes through
its journal (`_send`), placeholders and store exactly as imagine does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ImageError, InvalidRequest, MjError, Unsupported
from .images import crop_quadrant, safe_filename
from .images.export import write_new_file, write_replacing
from .images.metadata import sidecar_json
from .images.videos import VIDEO_MAX_BYTES, embed_video, video_kind
from .models import Action, Mode, Status, Task
from .providers.base import as_url
from .text import clean
from .uploads import image_data_uri, png_data_uri

if TYPE_CHECKING:
    from .service import MjService

#: what a picture given to video, edit or retexture may be: a finished task (one quadrant of
#: a grid), a file on disk, or a link
Picture = Task | str | Path
MOTIONS = ("low", "high")
BATCHES = (1, 2, 4)


@dataclass(frozen=True)
class SavedVideo:
    path: Path
    #: the story is inside the file (else only in the sidecar, when one was written)
    embedded: bool
    sidecar: Path | None = None


async def picture_ref(service: MjService, picture: Picture, *, quadrant: int | None = None) -> str:
    """A picture as the provider takes it: a link where there is one (a task's image, a
    link given, or a file uploaded where the provider turns files into links), else the
    file inline as a data URL. Refused before anything is sent: a file that is not an
    image, one too large, a grid without a quadrant, a task with no picture yet."""
    if isinstance(picture, Task):
        return await _task_picture(service, picture, quadrant)
    text = str(picture).strip()
    if isinstance(picture, str) and text.lower().startswith(("http://", "https://")):
        url = as_url(text)
        if url is None:
            raise InvalidRequest(f"“{clean(text[:80], one_line=True)}” is not a link mj-tui can send.")
        return url
    data = await asyncio.to_thread(image_data_uri, Path(text))
    return await _linked(service, data)


async def _linked(service: MjService, data_uri: str) -> str:
    """A data URL uploaded to a link where the provider offers it (a request body of a few
    hundred bytes instead of megabytes of base64); inline otherwise."""
    if not service.provider.supports_upload:
        return data_uri
    try:
        (url,) = await service.provider.upload_images([data_uri])
    except Unsupported:
        return data_uri
    return url


async def _task_picture(service: MjService, task: Task, quadrant: int | None) -> str:
    if task.status != Status.SUCCESS or not task.image_urls:
        raise InvalidRequest(f"Task {clean(task.id)} has no finished picture to start from.")
    if task.is_video:
        raise InvalidRequest(f"Task {clean(task.id)} is a video: start from a picture (or press Extend).")
    if task.is_grid and quadrant is None:
        raise InvalidRequest(
            f"Task {clean(task.id)} is a grid of four: pick one (1-4), or upscale it first and use the upscale."
        )
    if quadrant is None:
        return task.image_urls[0]
    if not 1 <= quadrant <= 4:
        raise InvalidRequest("A grid's pictures are numbered 1 to 4.")
    path = await service.fetch_image(task)

    def crop() -> str:
        from PIL import Image

        with Image.open(path) as img:
            img.load()
            return png_data_uri(crop_quadrant(img, quadrant))

    return await _linked(service, await asyncio.to_thread(crop))


def _video_prompt(prompt: str, source: str, motion: str, batch: int, loop: bool, end: str | None) -> str:
    """What the history shows for a video before the server says what it ran."""
    shown = source if not source.startswith("data:") else "(image)"
    parts = [shown, prompt.strip(), "--video 1", f"--motion {motion}"]
    if loop:
        parts.append("--end loop")
    elif end:
        parts.append("--end " + (end if not end.startswith("data:") else "(image)"))
    if batch in (1, 2):
        parts.append(f"--bs {batch}")
    return " ".join(p for p in parts if p)


async def video(
    service: MjService,
    picture: Picture,
    *,
    prompt: str = "",
    motion: str = "low",
    end: Picture | None = None,
    loop: bool = False,
    batch: int = 4,
    hd: bool = False,
    mode: Mode | None = None,
    quadrant: int | None = None,
    ref: str | None = None,
    webhook: str | None = None,
) -> Task:
    if not service.provider.supports_video:
        await service.provider.video(None, prompt=prompt)  # says why not (Unsupported)
    if motion not in MOTIONS:
        raise InvalidRequest("Motion is low or high.")
    if batch not in BATCHES:
        raise InvalidRequest("A video batch holds 1, 2 or 4 videos.")
    if loop and end is not None:
        raise InvalidRequest("A looping video ends where it starts: give an end frame or loop, not both.")
    mode = service.provider.check_mode(mode)
    text = prompt.strip() or "animate"
    source = await picture_ref(service, picture, quadrant=quadrant)
    last = await picture_ref(service, end) if end is not None else None
    shown = _video_prompt(text, source, motion, batch, loop, last)
    result = await service._send(
        Action.VIDEO,
        shown,
        mode,
        lambda: service.provider.video(
            source, prompt=text, motion=motion, end=last, loop=loop, batch=batch, hd=hd, mode=mode, webhook=webhook
        ),
        ref=ref,
    )
    parent = picture if isinstance(picture, Task) else None
    return service._placeholder(result, action=Action.VIDEO, prompt=shown, mode=mode, parent=parent)


async def extend(
    service: MjService,
    task: Task,
    index: int = 1,
    *,
    prompt: str = "",
    motion: str = "low",
    mode: Mode | None = None,
    ref: str | None = None,
) -> Task:
    """Video `index` (1-based) of a finished video task made longer, through the video
    endpoint (pressing its Extend button does the same from an upscaled video)."""
    if not task.is_video or task.status != Status.SUCCESS:
        raise InvalidRequest(f"Task {clean(task.id)} is not a finished video.")
    count = len(task.video_urls) or 1
    if not 1 <= index <= count:
        raise InvalidRequest(f"Task {clean(task.id)} has {count} video(s): pick 1 to {count}.")
    if motion not in MOTIONS:
        raise InvalidRequest("Motion is low or high.")
    mode = service.provider.check_mode(mode or task.mode)
    text = prompt.strip() or task.prompt or "animate"
    shown = f"extend #{clean(task.id)} video {index}: {text} --motion {motion}"
    result = await service._send(
        Action.VIDEO,
        shown,
        mode,
        lambda: service.provider.video(None, prompt=text, motion=motion, mode=mode, extend=task.id, index=index),
        ref=ref,
    )
    return service._placeholder(result, action=Action.VIDEO, prompt=text, mode=mode, parent=task)


async def edit(
    service: MjService,
    picture: Picture,
    prompt: str,
    *,
    retexture: bool = False,
    mode: Mode | None = None,
    quadrant: int | None = None,
    ref: str | None = None,
    webhook: str | None = None,
) -> Task:
    action = Action.RETEXTURE if retexture else Action.EDIT
    if not service.provider.supports_edit:
        await service.provider.edit("", prompt=prompt, retexture=retexture)  # says why not
    prompt = prompt.strip()
    if not prompt:
        raise InvalidRequest(f"A{'' if retexture else 'n'} {action.value.lower()} needs a prompt.")
    mode = service.provider.check_mode(mode)
    source = await picture_ref(service, picture, quadrant=quadrant)
    result = await service._send(
        action,
        prompt,
        mode,
        lambda: service.provider.edit(source, prompt=prompt, retexture=retexture, mode=mode, webhook=webhook),
        ref=ref,
    )
    parent = picture if isinstance(picture, Task) else None
    return service._placeholder(result, action=action, prompt=prompt, mode=mode, parent=parent)


async def upload(service: MjService, paths: Sequence[str | Path]) -> list[str]:
    """Image files as links the provider serves (checked first: each must be an image of at
    most 30 MB). Unsupported where the provider turns no files into links."""
    if not paths:
        raise InvalidRequest("Give at least one image file to upload.")
    if not service.provider.supports_upload:
        await service.provider.upload_images([])  # says why not
    data = [await asyncio.to_thread(image_data_uri, Path(p)) for p in paths]
    urls = await service.provider.upload_images(data)
    if len(urls) != len(data):
        raise MjError(f"The provider returned {len(urls)} link(s) for {len(data)} file(s).")
    return urls


async def seed(service: MjService, task: Task) -> str:
    """The task's seed: known already (the task said it), or asked once and stored with the
    task, so saved files carry it and the next ask sends nothing."""
    if task.seed:
        return task.seed
    value = await service.provider.image_seed(task.id)
    stored = service.get_cached(task.id) or task
    service._store([stored.with_(raw={**stored.raw, "seed": value})])
    return value


async def save_video(
    service: MjService, task: Task, folder: Path, *, index: int = 1, sidecar: bool = False
) -> SavedVideo:
    """Video `index` (1-based) of a finished video task saved in `folder` as a new file, its
    story written in where the format allows (see images/videos.py); `sidecar` writes
    ``<name>.json`` beside it, and so does a file that could take nothing."""
    urls = task.video_urls
    if task.status != Status.SUCCESS or not urls:
        raise ImageError(f"Task {clean(task.id)} has no finished video.")
    if not 1 <= index <= len(urls):
        raise InvalidRequest(f"Task {clean(task.id)} has {len(urls)} video(s): pick 1 to {len(urls)}.")
    try:
        got = await service.provider.http.download(urls[index - 1], max_bytes=VIDEO_MAX_BYTES, timeout=300.0)
    except ImageError as exc:
        gone = " The link is gone: refresh the task for a fresh one." if exc.status in (403, 404, 410) else ""
        raise ImageError(f"The video could not be downloaded: {exc.message}{gone}", status=exc.status) from None
    kind = video_kind(got.body)
    if kind is None:
        raise ImageError(f"The video link of task {clean(task.id)} gave something that is not a video.")
    story = service.story(task)

    def write() -> SavedVideo:
        data, embedded = embed_video(got.body, kind, story)
        stem = safe_filename(task.id, task.prompt or task.final_prompt, ext=kind).rsplit(".", 1)[0]
        if len(urls) > 1:
            stem += f"-v{index}"
        path = write_new_file(folder.expanduser(), stem, data, suffix="." + kind)
        side = None
        if sidecar or not embedded:
            side = write_replacing(path.with_suffix(".json"), sidecar_json(story, path.name).encode("utf-8"))
        return SavedVideo(path, embedded, side)

    return await asyncio.to_thread(write)
