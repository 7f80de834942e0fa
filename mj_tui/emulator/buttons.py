"""The Midjourney button catalogue (proxy-api §6 and the seeds 000 and 003 of docs/wire-sources.md).

Buttons are produced per result kind and parsed back when a client presses one.
The emulator only accepts customIds that the parent task actually offers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Result kinds of a task; they decide which buttons a SUCCESS task carries.
GRID = "grid"  # imagine, variation, reroll, blend, zoom, pan, vary region
SINGLE = "single"  # after U1..U4
SINGLE_HD = "single_hd"  # after Upscale (Subtle)/(Creative)
DESCRIBE = "describe"
SHORTEN = "shorten"
VIDEO_GRID = "video_grid"  # a batch of 1, 2 or 4 videos (animate, /mj/submit/video, extend)
VIDEO_SINGLE = "video_single"  # one video picked from a batch (video U1..U4)
VIDEO_KINDS = frozenset({VIDEO_GRID, VIDEO_SINGLE})
# every kind with a picture at imageUrl (a video's is its first frame)
IMAGE_KINDS = frozenset({GRID, SINGLE, SINGLE_HD, *VIDEO_KINDS})
#: the model version a prompt without --v gets (the emulator's Midjourney is V7)
DEFAULT_VERSION = 7.0
_VERSION = re.compile(r"--(v|version|niji)(?:\s+(\d+(?:\.\d+)?))?(?![\w.])", re.I)

NUMBER_EMOJI = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
PAN_EMOJI = {"left": "⬅️", "right": "➡️", "up": "⬆️", "down": "⬇️"}


@dataclass(frozen=True)
class Button:
    custom_id: str
    emoji: str
    label: str


def grid_buttons(h: str) -> list[Button]:
    # Seed order: U1..U4, reroll, V1..V4.
    out = [Button(f"MJ::JOB::upsample::{n}::{h}", "", f"U{n}") for n in range(1, 5)]
    out.append(Button(f"MJ::JOB::reroll::0::{h}::SOLO", "🔄", ""))
    out += [Button(f"MJ::JOB::variation::{n}::{h}", "", f"V{n}") for n in range(1, 5)]
    return out


def version_of(prompt: str) -> float:
    """The model version a prompt asks for: ``--v 6.1`` -> 6.1, ``--niji 6`` -> 6 (Niji
    versions share their buttons with the same V version), none -> DEFAULT_VERSION."""
    found = DEFAULT_VERSION
    for m in _VERSION.finditer(prompt or ""):
        if m[2]:
            found = float(m[2])
        elif m[1].lower() == "niji":
            found = 7.0  # a bare --niji is Niji 7
    return found


def _upscale_type(version: float) -> tuple[tuple[str, str], ...]:
    """The HD upscale pair for a version, as (customId verb, label); none from V8 on and
    before V5."""
    if version < 5 or version >= 8:
        return ()
    if version < 6:
        return (("upsample_v5_2x", "Upscale (2x)"), ("upsample_v5_4x", "Upscale (4x)"))
    tag = "v6r1" if abs(version - 6.1) < 1e-6 else f"v{int(version)}"
    return ((f"upsample_{tag}_2x_subtle", "Upscale (Subtle)"), (f"upsample_{tag}_2x_creative", "Upscale (Creative)"))


def single_buttons(
    h: str, *, upscaled: bool = False, version: float = DEFAULT_VERSION, video: bool = False
) -> list[Button]:
    """The buttons under one image. `version` drops what a model has not got (V8 has no HD
    upscale, zoom or pan; before V5 no region, zoom or pan); `video` adds Animate."""
    out = []
    if not upscaled:  # an HD upscale cannot be upscaled again (trueai OnUpscale2xButtons)
        out += [Button(f"MJ::JOB::{verb}::1::{h}::SOLO", "", label) for verb, label in _upscale_type(version)]
    out += [
        Button(f"MJ::JOB::low_variation::1::{h}::SOLO", "🪄", "Vary (Subtle)"),
        Button(f"MJ::JOB::high_variation::1::{h}::SOLO", "🪄", "Vary (Strong)"),
    ]
    if version >= 5:
        out.append(Button(f"MJ::Inpaint::1::{h}::SOLO", "🖌️", "Vary (Region)"))
    if 5 <= version < 8:
        out += [
            Button(f"MJ::Outpaint::50::1::{h}::SOLO", "🔍", "Zoom Out 2x"),
            Button(f"MJ::Outpaint::75::1::{h}::SOLO", "🔍", "Zoom Out 1.5x"),
            Button(f"MJ::CustomZoom::{h}", "🔍", "Custom Zoom"),
        ]
        out += [Button(f"MJ::JOB::pan_{d}::1::{h}::SOLO", e, "") for d, e in PAN_EMOJI.items()]
    if video:
        out += [
            Button(f"MJ::JOB::animate_high::1::{h}::SOLO", "🎞️", "Animate (High motion)"),
            Button(f"MJ::JOB::animate_low::1::{h}::SOLO", "🎞️", "Animate (Low motion)"),
        ]
    return out


def video_grid_buttons(h: str, count: int) -> list[Button]:
    out = [Button(f"MJ::JOB::video_virtual_upscale::{n}::{h}", "", f"U{n}") for n in range(1, count + 1)]
    out.append(Button(f"MJ::JOB::reroll::0::{h}::SOLO", "🔄", ""))
    return out


def video_single_buttons(h: str) -> list[Button]:
    return [
        Button(f"MJ::JOB::animate_high_extend::1::{h}", "🎞️", "Extend (High motion)"),
        Button(f"MJ::JOB::animate_low_extend::1::{h}", "🎞️", "Extend (Low motion)"),
    ]


def describe_buttons() -> list[Button]:
    out = [Button(f"MJ::Job::PicReader::{n}", NUMBER_EMOJI[n - 1], "") for n in range(1, 5)]
    out.append(Button("MJ::Picread::Retry", "🔄", ""))
    return out


def shorten_buttons(h: str) -> list[Button]:
    # The middle segment is not captured in any source; the index is the last one.
    return [Button(f"MJ::Job::PromptAnalyzer::{h}::{n}", NUMBER_EMOJI[n - 1], "") for n in range(1, 6)]


def buttons_for(
    kind: str, h: str, *, version: float = DEFAULT_VERSION, video: bool = False, batch: int = 4
) -> list[Button]:
    """A finished task's buttons. `video`: the dialect animates (midjourney-proxy), so the
    image's version decides its set; without it the V7 set of old is kept."""
    if kind == GRID:
        return grid_buttons(h)
    if kind == SINGLE:
        return single_buttons(h, version=version if video else DEFAULT_VERSION, video=video)
    if kind == SINGLE_HD:
        return single_buttons(h, upscaled=True, version=version if video else DEFAULT_VERSION, video=video)
    if kind == VIDEO_GRID:
        return video_grid_buttons(h, batch)
    if kind == VIDEO_SINGLE:
        return video_single_buttons(h)
    if kind == DESCRIBE:
        return describe_buttons()
    if kind == SHORTEN:
        return shorten_buttons(h)
    return []


@dataclass(frozen=True)
class Press:
    """A parsed customId: what pressing the button asks Midjourney to do."""

    op: str  # upsample|upscale_hd|variation|low_variation|high_variation|reroll|inpaint|
    #          outpaint|custom_zoom|pan|picreader|picread_retry|analyzer|animate|video_upscale|extend
    index: int = 0  # U/V/PicReader/PromptAnalyzer number, Outpaint percentage
    param: str = ""  # pan direction, upscale flavour


# MJ action name of the task a button creates (proxy §5.4 trueai mapping; seed 004 names).
ACTION_OF = {
    "upsample": "UPSCALE",
    "upscale_hd": "UPSCALE",
    "variation": "VARIATION",
    "low_variation": "VARIATION",
    "high_variation": "VARIATION",
    "inpaint": "VARIATION",
    "reroll": "REROLL",
    "outpaint": "ZOOM",
    "custom_zoom": "ZOOM",
    "pan": "PAN",
    "picreader": "IMAGINE",
    "analyzer": "IMAGINE",
    "picread_retry": "DESCRIBE",
    "animate": "VIDEO",
    "video_upscale": "UPSCALE",
    "extend": "VIDEO",
}

_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Press]]] = [
    (re.compile(r"^MJ::JOB::upsample::([1-4])::[0-9a-f-]+$"), lambda m: Press("upsample", int(m[1]))),
    (
        re.compile(r"^MJ::JOB::upsample_v(?:\d+(?:r\d)?)_(?:2x_(subtle|creative)|(2x|4x))::1::[0-9a-f-]+::SOLO$"),
        lambda m: Press("upscale_hd", 1, m[1] or m[2]),
    ),
    (re.compile(r"^MJ::JOB::animate_(high|low)::1::[0-9a-f-]+::SOLO$"), lambda m: Press("animate", 1, m[1])),
    (re.compile(r"^MJ::JOB::video_virtual_upscale::([1-4])::[0-9a-f-]+$"), lambda m: Press("video_upscale", int(m[1]))),
    (
        re.compile(r"^MJ::JOB::animate_(high|low)_extend::([1-4])::[0-9a-f-]+$"),
        lambda m: Press("extend", int(m[2]), m[1]),
    ),
    (re.compile(r"^MJ::JOB::variation::([1-4])::[0-9a-f-]+$"), lambda m: Press("variation", int(m[1]))),
    (
        re.compile(r"^MJ::JOB::(low|high)_variation::1::[0-9a-f-]+::SOLO$"),
        lambda m: Press(f"{m[1]}_variation", 1),
    ),
    (re.compile(r"^MJ::JOB::reroll::0::[0-9a-f-]+::SOLO$"), lambda m: Press("reroll")),
    (re.compile(r"^MJ::Inpaint::1::[0-9a-f-]+::SOLO$"), lambda m: Press("inpaint", 1)),
    (re.compile(r"^MJ::Outpaint::(50|75)::1::[0-9a-f-]+::SOLO$"), lambda m: Press("outpaint", int(m[1]))),
    (re.compile(r"^MJ::CustomZoom::[0-9a-f-]+$"), lambda m: Press("custom_zoom")),
    (
        re.compile(r"^MJ::JOB::pan_(left|right|up|down)::1::[0-9a-f-]+::SOLO$"),
        lambda m: Press("pan", 1, m[1]),
    ),
    (re.compile(r"^MJ::Job::PicReader::([1-4])$"), lambda m: Press("picreader", int(m[1]))),
    (re.compile(r"^MJ::Picread::Retry$"), lambda m: Press("picread_retry")),
    (re.compile(r"^MJ::Job::PromptAnalyzer::[0-9a-f-]+::([1-5])$"), lambda m: Press("analyzer", int(m[1]))),
]


def parse(custom_id: str) -> Press | None:
    for pattern, build in _PATTERNS:
        m = pattern.match(custom_id)
        if m:
            return build(m)
    return None
