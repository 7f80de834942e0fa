"""Reading what finished tasks say, and where saved pictures go.

Pure helpers the TUI (and scripts) share: the four /describe prompts, the five
/shorten prompts, a short human name for the button that made a task, and the
folder "save image" writes into.  No I/O beyond resolving a path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .models import Action, Button, ButtonKind, Task

APP_FOLDER = "mj-tui"
DOWNLOAD_DIR_ENV = "MJ_TUI_DOWNLOAD_DIR"

# "1️⃣ text" (keycap: digit, optional VS16, U+20E3) at the start of a line
_NUMBERED = re.compile(r"(?m)^[ \t]*([1-9])\ufe0f?\u20e3[ \t]*")
_SHORTENED = re.compile(r"(?im)^#+\s*shortened prompts\s*$")
_OUTPAINT = {"50": "Zoom Out 2x", "75": "Zoom Out 1.5x", "100": "Make Square"}
_PAN = {"left": "Pan ←", "right": "Pan →", "up": "Pan ↑", "down": "Pan ↓"}


def numbered_prompts(text: str) -> list[str]:
    """The "1️⃣ … 2️⃣ …" items of a text, in order, each on one line."""
    text = text or ""
    marks = list(_NUMBERED.finditer(text))
    items = []
    for k, mark in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        item = " ".join(text[mark.end() : end].split())
        if item:
            items.append(item)
    return items


def describe_prompts(task: Task) -> list[str]:
    """The prompts a finished /describe suggested.

    OhMyGPT puts them in the task's prompt; midjourney-proxy in
    ``properties.finalPrompt`` (Task.final_prompt); some relays only in the description.
    """
    for text in (task.final_prompt, task.prompt, task.description):
        found = numbered_prompts(text)
        if found:
            return found
    return []


def shortened_prompts(task: Task) -> list[str]:
    """The prompts a finished /shorten proposed (its report's "Shortened prompts" list)."""
    for text in (task.final_prompt, task.description, task.prompt):
        text = text or ""
        heading = _SHORTENED.search(text)
        if heading is not None:
            found = numbered_prompts(text[heading.end() :])
            if found:
                return found
    return []


def suggested_prompts(task: Task) -> list[str]:
    """Prompts to pick from, for a describe or shorten task (else empty)."""
    action = task.action.upper()
    if action == Action.DESCRIBE:
        return describe_prompts(task)
    if action == Action.SHORTEN:
        return [with_parameters_of(task.prompt, option) for option in shortened_prompts(task)]
    return []


def with_parameters_of(original: str, option: str) -> str:
    """/shorten proposes the words only: keep the original's --parameters (--ar, --stylize…)
    on an option that has none, so picking one does not silently change the picture's shape."""
    from .prompt import parse  # the prompt parser loads on first use, not at startup

    if not original or _SHORTENED.search(original):
        return option  # the original is not known here
    try:
        source, proposed = parse(original), parse(option)
    except Exception:
        return option
    if not source.params or proposed.params:
        return option
    at = original.find(source.body)
    tail = original[at + len(source.body) :].strip() if source.body and at >= 0 else ""
    return f"{option.rstrip()} {tail}" if tail.startswith("--") else option


def origin_name(custom_id: str | None, parent: Task | None = None) -> str:
    """A short name for the button that made a task: "U2", "V3", "Zoom Out 2x", "Pan ←"...

    The parent's own button label wins when the parent is known (it is Midjourney's wording).
    """
    if not custom_id:
        return ""
    button = Button(custom_id)
    kind = button.kind
    if kind == ButtonKind.UPSCALE and button.index:
        return f"U{button.index}"
    if kind == ButtonKind.VARIATION and button.index:
        return f"V{button.index}"
    if parent is not None:
        for candidate in parent.buttons:
            if candidate.custom_id == custom_id and (candidate.label or "").strip():
                return candidate.label.strip()
    parts = custom_id.split("::")
    if kind == ButtonKind.ZOOM and len(parts) > 2:
        return _OUTPAINT.get(parts[2], "Zoom Out")
    if kind == ButtonKind.PAN and len(parts) > 2:
        return _PAN.get(parts[2].replace("pan_", "").split("_")[0], "Pan")
    return {
        ButtonKind.REROLL: "Reroll",
        ButtonKind.UPSCALE_HD: "Upscale",
        ButtonKind.VARY_SUBTLE: "Vary (Subtle)",
        ButtonKind.VARY_STRONG: "Vary (Strong)",
        ButtonKind.VARY_REGION: "Vary (Region)",
        ButtonKind.CUSTOM_ZOOM: "Custom Zoom",
        ButtonKind.DESCRIBE_PICK: f"Imagine {parts[-1]}" if parts[-1].isdigit() else "Imagine",
        ButtonKind.DESCRIBE_RETRY: "Describe again",
        ButtonKind.SHORTEN_PICK: f"Imagine {parts[-1]}" if parts[-1].isdigit() else "Imagine",
        ButtonKind.ANIMATE: "Animate",
    }.get(kind, button.display)


def download_dir(configured: Path | None = None) -> Path:
    """Where saved pictures go: $MJ_TUI_DOWNLOAD_DIR, the config's download_dir, or
    the desktop's pictures folder (~/Pictures) + /mj-tui (the environment beats the
    file, as everywhere else in the config's layering)."""
    env = os.environ.get(DOWNLOAD_DIR_ENV)
    if env:
        return Path(env).expanduser()
    if configured:
        return Path(configured).expanduser()
    try:
        import platformdirs

        pictures = Path(platformdirs.user_pictures_dir())
    except Exception:  # no desktop dirs on this box: the usual place
        pictures = Path.home() / "Pictures"
    return pictures / APP_FOLDER


__all__ = [
    "describe_prompts",
    "download_dir",
    "numbered_prompts",
    "origin_name",
    "shortened_prompts",
    "suggested_prompts",
]
