"""Button presses and the modal (dialog) step; Engine.action and Engine.submit_modal call these.

proxy-api §6 (docs/wire-sources.md) says which buttons open a dialog: Vary (Region),
Custom Zoom, PicReader and PromptAnalyzer always do; V/reroll/pan/vary do when
Remix is on. OhMyGPT has no modal endpoint, so there the mask travels with the
action (`base64Mask`), PicReader imagines directly and Custom Zoom is refused.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Unpack

from . import art
from .buttons import ACTION_OF, GRID, SINGLE, SINGLE_HD, VIDEO_GRID, VIDEO_KINDS, VIDEO_SINGLE, Press, parse
from .model import MJPROXY, OHMYGPT, ClientFields, EmulatorError, Recipe, Submitted, Task

if TYPE_CHECKING:  # engine.py imports this module
    from .engine import Engine

ALWAYS_MODAL = {"inpaint": "inpaint", "custom_zoom": "custom_zoom", "picreader": "picreader", "analyzer": "analyzer"}
# buttons that open the Remix dialog when the account has Remix on (a video's Animate and
# Extend among them; a video's U never does)
REMIX_MODAL = {"variation", "low_variation", "high_variation", "reroll", "pan", "animate", "extend"}
_ZOOM = re.compile(r"--zoom\s+(\d+(?:\.\d+)?|\.\d+)(?![\d.])")


def action(
    engine: Engine,
    owner: str,
    dialect: str,
    parent_id: object,
    custom_id: str,
    mode: str,
    *,
    mask: bytes | None = None,
    remix: bool = False,
    **extra: Unpack[ClientFields],
) -> Submitted:
    """`remix`: the client asked for the Remix dialog (enableRemix) on a button that has one."""
    parent = engine.get(owner, dialect, parent_id)
    if parent is None:
        raise EmulatorError("not_found", f"Task {parent_id} does not exist or has expired")
    status = engine.view(parent).status
    if status != "SUCCESS":
        raise EmulatorError(
            "state", f"Task {parent.id} is {status}; buttons can only be pressed on a SUCCESS task", status=status
        )
    if custom_id not in {b.custom_id for b in engine.buttons(parent)}:
        raise EmulatorError(
            "button", f"customId {custom_id!r} is not one of task {parent.id}'s buttons", custom_id=custom_id
        )
    if dialect == OHMYGPT and mode != parent.mode:
        # Seed 004/001: the FAST and NORMAL pools are separate accounts.
        raise EmulatorError(
            "mode",
            f"Mode mismatch: task {parent.id} ran in {parent.mode} mode, so actions "
            f"on it must also use type={parent.mode} (got {mode}); the FAST and NORMAL "
            "resource pools are managed separately",
            parent_mode=parent.mode,
        )
    press = parse(custom_id)
    assert press is not None  # every button we hand out parses
    modal = _modal_kind(engine, dialect, press, mask, remix)
    if press.op == "picread_retry":
        source = parent.recipe
        assert source[0] == "describe"  # only a describe task offers Picread::Retry
        _, upload, attempt = source
        return engine.describe(
            owner,
            dialect,
            engine.uploads[upload],
            mode,
            attempt=attempt + 1,
            parent=parent,
            custom_id=custom_id,
            description="/describe (retry)",
            **extra,
        )
    if press.op == "picreader" and modal is None:  # OhMyGPT: imagine the chosen prompt directly
        prompt = parent.choices[press.index - 1]
        return engine.imagine(
            owner,
            dialect,
            prompt,
            mode,
            parent=parent,
            custom_id=custom_id,
            description=f"/imagine {prompt}",
            **extra,
        )

    action = ACTION_OF[press.op]
    if press.op == "reroll" and parent.kind in VIDEO_KINDS:
        action = "VIDEO"  # a video's reroll is another video
    queued, ahead = engine.admit(owner, dialect, engine.price(action, mode), queue=modal is None)
    kind, recipe, family = _result_of(engine, press, parent, mask)
    prompt = parent.prompt
    if press.op in ("animate", "extend"):
        prompt = f"{_without_motion(parent.prompt)} --video 1 --motion {press.param}"
    suggestion = prompt
    if press.op == "custom_zoom":
        suggestion = f"{parent.prompt} --zoom 2"
    elif press.op in ("picreader", "analyzer"):
        suggestion = parent.choices[press.index - 1]
    task = engine.create(
        owner,
        dialect,
        action=action,
        kind=kind,
        prompt=prompt,
        mode=mode,
        recipe=recipe,
        family=family,
        parent=parent,
        custom_id=custom_id,
        modal=modal,
        prompt_en=prompt if prompt != parent.prompt else (parent.prompt_en or parent.prompt),
        description=_describe(press, parent),
        **extra,
    )
    task.final_prompt = suggestion if modal else (prompt if prompt != parent.prompt else parent.final_prompt or prompt)
    if kind in VIDEO_KINDS:
        task.motion = press.param if press.op in ("animate", "extend") else parent.motion
        task.batch = 1 if kind == VIDEO_SINGLE else (parent.batch if press.op == "reroll" else 4)
        task.source, task.video_type = parent.source, parent.video_type
    return Submitted(task, ahead, queued, modal=modal is not None)


def _modal_kind(engine: Engine, dialect: str, press: Press, mask: bytes | None, remix: bool) -> str | None:
    if dialect == MJPROXY:
        if press.op in ALWAYS_MODAL:
            return ALWAYS_MODAL[press.op]
        return "remix" if (engine.config.remix or remix) and press.op in REMIX_MODAL else None
    if press.op == "custom_zoom":
        raise EmulatorError(
            "unsupported",
            "Custom Zoom is not supported by this API: it needs a prompt "
            "dialog (modal) and there is no modal endpoint; use Zoom Out 2x or 1.5x",
        )
    if press.op == "inpaint" and mask is None:
        raise EmulatorError(
            "invalid",
            "Vary (Region) requires base64Mask: a PNG mask as base64 or data URL, "
            "white = area to repaint, black = keep",
        )
    return None


_MOTION = re.compile(r"\s*--(?:video\s+1|motion\s+\w+)\b", re.I)


def _without_motion(prompt: str) -> str:
    return _MOTION.sub("", prompt).strip()


def _result_of(engine: Engine, press: Press, parent: Task, mask: bytes | None) -> tuple[str, Recipe, float]:
    op, fam = press.op, parent.family
    jitter = engine.rng.uniform(-1, 1)
    if op == "animate":  # four videos starting on the upscaled picture
        return VIDEO_GRID, ("video", engine.render_png(parent), 0), fam
    if parent.recipe[0] == "video":
        _, first, offset = parent.recipe
        if op == "video_upscale":  # that one video of the batch, on its own
            return VIDEO_SINGLE, ("video", first, offset + press.index - 1), fam
        if op == "extend":  # four more videos going on from it
            return VIDEO_GRID, ("video", first, offset + 4), fam
        if op == "reroll":
            return VIDEO_GRID, ("video", first, offset + parent.batch), fam + 0.04 * jitter
    if op == "upsample":
        return SINGLE, ("crop", press.index), fam + (press.index - 1) * 0.25
    if op == "upscale_hd":
        return SINGLE_HD, ("upscale", press.param == "creative"), fam
    if op == "variation":  # a new grid around the chosen quadrant's hue
        return GRID, ("vary",), fam + (press.index - 1) * 0.25 + 0.03 * jitter
    if op == "reroll":  # the same prompt again: four hues like an imagine grid
        return GRID, ("vary", 0.25), fam + 0.04 * jitter
    if op in ("low_variation", "high_variation"):
        return GRID, ("vary",), fam + (0.02 if op == "low_variation" else 0.1) * jitter
    if op == "inpaint":
        return GRID, ("inpaint", mask), fam
    if op == "outpaint":
        return GRID, ("zoom", press.index / 100), fam
    if op == "custom_zoom":
        return GRID, ("zoom", 0.5), fam  # replaced by the modal's --zoom value
    if op == "pan":
        return GRID, ("pan", press.param), fam
    # picreader / analyzer: an imagine of the prompt chosen in the modal
    prompt = parent.choices[press.index - 1]
    return GRID, ("grid", prompt), art.family_of(prompt)


def submit_modal(engine: Engine, owner: str, task_id: object, prompt: str | None, mask: bytes | None) -> Submitted:
    task = engine.get(owner, MJPROXY, task_id)
    if task is None:
        raise EmulatorError("not_found", f"Task {task_id} does not exist or has expired")
    if task.modal is None:
        raise EmulatorError("state", f"Task {task.id} is not waiting for a modal", status=engine.view(task).status)
    prompt = (prompt or "").strip() or task.final_prompt
    if not prompt and task.modal != "inpaint":
        raise EmulatorError("invalid", "prompt must not be empty")
    if task.modal == "inpaint":
        if mask is None:
            raise EmulatorError(
                "invalid",
                "maskBase64 is required for Vary (Region): a PNG data URL, white = area to repaint, black = keep",
            )
        task.recipe = ("inpaint", mask)
    elif task.modal == "custom_zoom":
        m = _ZOOM.search(prompt)
        if not m or not 1.0 <= float(m[1]) <= 2.0:
            raise EmulatorError("invalid", "Custom Zoom needs '--zoom <1.0-2.0>' in the prompt")
        task.recipe = ("zoom", 1.0 / float(m[1]))
    elif task.modal in ("picreader", "analyzer"):
        task.recipe, task.family = ("grid", prompt), art.family_of(prompt) % 1.0
    engine.check_prompt(prompt)
    queued, ahead = engine.admit(owner, MJPROXY, 0.0)  # the price was reserved by the action
    task.prompt = task.prompt_en = task.final_prompt = prompt
    task.failure = engine.moderation(prompt)
    task.modal = None
    engine.schedule(task)
    return Submitted(task, ahead, queued)


def _describe(press: Press, parent: Task) -> str:
    """Java midjourney-proxy style task descriptions (OhMyGPT shows them too)."""
    pid = parent.id
    return {
        "upsample": f"/up {pid} U{press.index}",
        "upscale_hd": f"/up {pid} {press.param.capitalize()}",
        "variation": f"/variation {pid} V{press.index}",
        "low_variation": f"/variation {pid} Subtle",
        "high_variation": f"/variation {pid} Strong",
        "reroll": f"/reroll {pid}",
        "inpaint": f"/inpaint {pid}",
        "outpaint": f"/zoom {pid} {'2x' if press.index == 50 else '1.5x'}",
        "custom_zoom": f"/zoom {pid} custom",
        "pan": f"/pan {pid} {press.param}",
        "animate": f"/video {pid} {press.param}",
        "video_upscale": f"/up {pid} U{press.index}",
        "extend": "/video extend",
    }.get(press.op, f"/imagine {pid}")
