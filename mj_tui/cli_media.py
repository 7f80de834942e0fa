"""`mj-tui video`, `edit`, `retexture`, `seed`, `upload` and `save-video`: the newer
midjourney-proxy features as scripting commands, over the service's same doors.

Kept out of cli.py so that it stays small; the shared helpers (output, --wait, usage
errors) are cli.py's own, imported when a command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .core.errors import InvalidRequest
from .core.models import Mode, Status, Task
from .core.text import clean

if TYPE_CHECKING:
    from .core.media import Picture
    from .core.service import MjService


def add_arguments(command: Callable[[str, str], argparse.ArgumentParser], wait_flags: Callable[..., None]) -> None:
    modes = [m.value for m in Mode]

    p = command("video", "animate a picture: a finished task (ID), an image file or a link (midjourney-proxy)")
    p.add_argument("source", nargs="?", metavar="ID|URL", help="a finished task's id (an upscale), or a link")
    p.add_argument("--image", default=None, metavar="FILE|URL", help="the first frame from a file or a link instead")
    p.add_argument("--prompt", default="", help="what moves, and how")
    p.add_argument("--motion", choices=["low", "high"], default="low")
    end = p.add_mutually_exclusive_group()
    end.add_argument("--end", default=None, metavar="FILE|URL", help="the last frame")
    end.add_argument("--loop", action="store_true", help="end where it starts")
    p.add_argument("--batch", type=int, choices=[1, 2, 4], default=4, help="videos to make (default 4)")
    p.add_argument("--hd", action="store_true", help="high definition (720p), where the account can")
    p.add_argument("--quadrant", type=int, choices=[1, 2, 3, 4], default=None, help="one picture of a grid task")
    p.add_argument("--mode", choices=modes, default=None)
    wait_flags(p)

    for name, what in (("edit", "change a picture as a prompt says"), ("retexture", "new surfaces on its shapes")):
        p = command(name, f"{what}: a finished task (ID), an image file or a link (midjourney-proxy)")
        p.add_argument("source", metavar="ID|FILE|URL")
        p.add_argument("prompt")
        p.add_argument("--quadrant", type=int, choices=[1, 2, 3, 4], default=None, help="one picture of a grid task")
        p.add_argument("--mode", choices=modes, default=None)
        wait_flags(p)

    p = command("seed", "print a finished task's seed (asked once, then kept in the history)")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")

    p = command("upload", "turn image files into links the provider serves (midjourney-proxy)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true")

    p = command("save-video", "save a finished video task's video, its prompt written in where the format allows")
    p.add_argument("id")
    p.add_argument("-o", "--output", default=".", metavar="DIR")
    p.add_argument("--index", type=int, default=1, metavar="N", help="which video of a batch (default 1)")
    p.add_argument("--sidecar", action="store_true", help="also write <name>.json beside it")
    p.add_argument("--json", action="store_true")


def _mode(args: argparse.Namespace) -> Mode | None:
    return Mode(args.mode) if getattr(args, "mode", None) else None


def _usage(message: str) -> Exception:
    from .cli import UsageError

    return UsageError(message)


def _local_file(text: str) -> Path | None:
    path = Path(text).expanduser()
    return path if path.is_file() else None


async def _picture(service: MjService, text: str) -> Picture:
    """A task id, a link or a file, as the person meant it: a link or an existing file is
    taken as such; anything else must be a task in the history or at the provider."""
    from .core.models import is_task_id

    if text.lower().startswith(("http://", "https://")):
        return text
    local = _local_file(text)
    if local is not None:
        return local
    if not is_task_id(text):
        raise _usage(f"No image file or task {clean(text, one_line=True)!r}.")
    task = service.get_cached(text)
    if task is None or task.status != Status.SUCCESS:
        task = await service.refresh(text)
    return task


def _checked(refusal: InvalidRequest) -> Exception:
    """A refusal made here before anything was sent is bad usage (exit 2), as elsewhere."""
    return _usage(refusal.message)


async def cmd_video(args: argparse.Namespace, service: MjService) -> int:
    from .cli import _finish

    if bool(args.source) == bool(args.image):
        raise _usage("Give the first frame once: a task ID or link, or --image FILE|URL.")
    if not service.capabilities.video:
        raise _usage(f"{service.capabilities.label} makes no videos; midjourney-proxy providers do.")
    source = await _picture(service, args.source or args.image)
    end = await _picture(service, args.end) if args.end else None
    try:
        task = await service.video(
            source,
            prompt=args.prompt,
            motion=args.motion,
            end=end,
            loop=args.loop,
            batch=args.batch,
            hd=args.hd,
            mode=_mode(args),
            quadrant=args.quadrant,
        )
    except InvalidRequest as exc:
        if exc.status is None:  # ours, before sending
            raise _checked(exc) from None
        raise
    return await _finish(args, service, task)


async def cmd_edit(args: argparse.Namespace, service: MjService) -> int:
    from .cli import _finish

    retexture = args.command == "retexture"
    if not service.capabilities.edit:
        raise _usage(f"{service.capabilities.label} offers no {args.command}; midjourney-proxy providers do.")
    source = await _picture(service, args.source)
    call = service.retexture if retexture else service.edit
    try:
        task = await call(source, args.prompt, mode=_mode(args), quadrant=args.quadrant)
    except InvalidRequest as exc:
        if exc.status is None:
            raise _checked(exc) from None
        raise
    return await _finish(args, service, task)


async def cmd_seed(args: argparse.Namespace, service: MjService) -> int:
    from .cli import json_text

    if not service.capabilities.seed:
        raise _usage(f"{service.capabilities.label} does not report seeds; put --seed N in a prompt to know it.")
    task = service.get_cached(args.id)
    if task is None or task.status != Status.SUCCESS:
        task = await service.refresh(args.id)
    seed = await service.seed(task)
    print(json_text({"id": task.id, "seed": seed}) if args.json else seed)
    return 0


async def cmd_upload(args: argparse.Namespace, service: MjService) -> int:
    from .cli import json_text

    if not service.capabilities.upload:
        raise _usage(f"{service.capabilities.label} turns no files into links; midjourney-proxy providers do.")
    try:
        urls = await service.upload(args.files)
    except InvalidRequest as exc:
        if exc.status is None:
            raise _checked(exc) from None
        raise
    if args.json:
        print(json_text([{"file": f, "url": u} for f, u in zip(args.files, urls, strict=True)]))
    else:
        for url in urls:
            print(clean(url, one_line=True))
    return 0


async def cmd_save_video(args: argparse.Namespace, service: MjService) -> int:
    from .cli import json_text

    task: Task | None = service.get_cached(args.id)
    if task is None or task.status != Status.SUCCESS or not task.video_urls:
        task = await service.refresh(args.id)
    if not task.is_video:
        raise _usage(f"Task {clean(task.id)} is not a video; `mj-tui download` saves pictures.")
    try:
        saved = await service.save_video(task, Path(args.output), index=args.index, sidecar=args.sidecar)
    except InvalidRequest as exc:
        raise _checked(exc) from None
    if args.json:
        side = str(saved.sidecar) if saved.sidecar else None
        print(json_text({"path": str(saved.path), "prompt_inside": saved.embedded, "sidecar": side}))
    else:
        print(saved.path)
    return 0


COMMANDS = {
    "video": cmd_video,
    "edit": cmd_edit,
    "retexture": cmd_edit,  # one command, told apart by its name
    "seed": cmd_seed,
    "upload": cmd_upload,
    "save-video": cmd_save_video,
}

__all__ = ["COMMANDS", "add_arguments"]
