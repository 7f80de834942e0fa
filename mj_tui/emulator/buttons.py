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
IMAGE_KINDS = frozenset({GRID, SINGLE, SINGLE_HD})

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


def single_buttons(h: str, *, upscaled: bool = False) -> list[Button]:
    out = []
    if not upscaled:  # an HD upscale cannot be upscaled again (trueai OnUpscale2xButtons)
        out += [
            Button(f"MJ::JOB::upsample_v7_2x_subtle::1::{h}::SOLO", "", "Upscale (Subtle)"),
            Button(f"MJ::JOB::upsample_v7_2x_creative::1::{h}::SOLO", "", "Upscale (Creative)"),
        ]
    out += [
        Button(f"MJ::JOB::low_variation::1::{h}::SOLO", "🪄", "Vary (Subtle)"),
        Button(f"MJ::JOB::high_variation::1::{h}::SOLO", "🪄", "Vary (Strong)"),
        Button(f"MJ::Inpaint::1::{h}::SOLO", "🖌️", "Vary (Region)"),
        Button(f"MJ::Outpaint::50::1::{h}::SOLO", "🔍", "Zoom Out 2x"),
        Button(f"MJ::Outpaint::75::1::{h}::SOLO", "🔍", "Zoom Out 1.5x"),
        Button(f"MJ::CustomZoom::{h}", "🔍", "Custom Zoom"),
    ]
    out += [Button(f"MJ::JOB::pan_{d}::1::{h}::SOLO", e, "") for d, e in PAN_EMOJI.items()]
    return out


def describe_buttons() -> list[Button]:
    out = [Button(f"MJ::Job::PicReader::{n}", NUMBER_EMOJI[n - 1], "") for n in range(1, 5)]
    out.append(Button("MJ::Picread::Retry", "🔄", ""))
    return out


def shorten_buttons(h: str) -> list[Button]:
    # The middle segment is not captured in any source; the index is the last one.
    return [Button(f"MJ::Job::PromptAnalyzer::{h}::{n}", NUMBER_EMOJI[n - 1], "") for n in range(1, 6)]


def buttons_for(kind: str, h: str) -> list[Button]:
    if kind == GRID:
        return grid_buttons(h)
    if kind == SINGLE:
        return single_buttons(h)
    if kind == SINGLE_HD:
        return single_buttons(h, upscaled=True)
    if kind == DESCRIBE:
        return describe_buttons()
    if kind == SHORTEN:
        return shorten_buttons(h)
    return []


@dataclass(frozen=True)
class Press:
    """A parsed customId: what pressing the button asks Midjourney to do."""

    op: str  # upsample|upscale_hd|variation|low_variation|high_variation|reroll|inpaint|
    #          outpaint|custom_zoom|pan|picreader|picread_retry|analyzer
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
}

_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Press]]] = [
    (re.compile(r"^MJ::JOB::upsample::([1-4])::[0-9a-f-]+$"), lambda m: Press("upsample", int(m[1]))),
    (
        re.compile(r"^MJ::JOB::upsample_v7_2x_(subtle|creative)::1::[0-9a-f-]+::SOLO$"),
        lambda m: Press("upscale_hd", 1, m[1]),
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
