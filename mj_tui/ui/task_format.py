"""How a task reads on screen: status icon and colour, progress bar, durations."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from ..core.models import Status, Task
from ..core.results import origin_name
from .text import clean, literal

# single-width symbols: emoji widths vary between terminals and break columns
STATUS_LOOK: dict[Status, tuple[str, str, str]] = {
    Status.NOT_START: ("◌", "$warning", "queued"),
    Status.SUBMITTED: ("◌", "$warning", "submitted"),
    Status.IN_PROGRESS: ("◐", "$accent", "running"),
    Status.MODAL: ("✎", "$warning", "needs input"),
    Status.SUCCESS: ("✔", "$success", "done"),
    Status.FAILURE: ("✘", "$error", "failed"),
    Status.CANCEL: ("⊘", "$text-muted", "cancelled"),
    Status.UNKNOWN: ("?", "$text-muted", "unknown"),
    Status.UNCONFIRMED: ("?", "$warning", "unconfirmed"),
}

ACTION_TAGS = {
    "IMAGINE": "imagine",
    "UPSCALE": "upscale",
    "VARIATION": "vary",
    "REROLL": "reroll",
    "ZOOM": "zoom",
    "PAN": "pan",
    "BLEND": "blend",
    "DESCRIBE": "describe",
    "SHORTEN": "shorten",
    "INPAINT": "region",
    "OUTPAINT": "zoom",
}


# a narrow list (80 columns with the preview open) keeps a 3-cell tag
SHORT_TAGS = {
    "IMAGINE": "img",
    "UPSCALE": "up",
    "VARIATION": "var",
    "REROLL": "↻",
    "ZOOM": "zm",
    "OUTPAINT": "zm",
    "PAN": "pan",
    "BLEND": "bld",
    "DESCRIBE": "dsc",
    "SHORTEN": "sht",
    "INPAINT": "reg",
}


def status_icon(task: Task) -> Content:
    icon, style, _ = STATUS_LOOK.get(task.status, STATUS_LOOK[Status.UNKNOWN])
    return Content.styled(icon, f"bold {style}")


def progress_bar(percent: int, width: int = 8) -> Content:
    percent = max(0, min(100, percent))
    filled = round(width * percent / 100)
    return Content.assemble(
        ("━" * filled, "$accent"),
        ("━" * (width - filled), "$panel-lighten-2"),
        (f" {percent:>3}%", "$text-muted"),
    )


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def elapsed(task: Task, now: datetime) -> str:
    """Render time: start (or submit) to finish, or to now while running."""
    start = task.start_time or task.submit_time
    if start is None:
        return ""
    end = task.finish_time if task.status.is_terminal else now
    if end is None:
        return ""
    return duration((end - start).total_seconds())


def age(task: Task, now: datetime) -> str:
    """Coarse 'how long ago' for the preview caption."""
    if task.submit_time is None:
        return ""
    seconds = (now - task.submit_time).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return ""


def action_tag(task: Task) -> str:
    """ "upscale", "vary"...; a name this client does not know is shown as sent (made safe)."""
    return ACTION_TAGS.get(task.action.upper(), clean(task.action.lower(), one_line=True) or "task")


def short_tag(task: Task) -> str:
    """ "U2" / "V3" when the button that made it is known, else a 3-letter action."""
    origin = origin_name(task.origin_custom_id)
    if len(origin) == 2 and origin[0] in "UV":
        return origin
    return SHORT_TAGS.get(task.action.upper(), clean(task.action.lower(), one_line=True)[:3] or "?")


def task_row(task: Task, now: datetime, *, compact: bool = False) -> Content:
    """One task-list entry: icon, progress or duration, action, prompt; failures add a line."""
    parts: list[Content | tuple[str, str] | str] = [status_icon(task), " "]
    if task.starred:
        parts[-1] = ("★", "bold $warning")
    if task.status.in_flight:
        parts += [progress_bar(task.progress, 5 if compact else 8), " "]
    time_text = elapsed(task, now)
    if time_text:
        parts.append((f"{time_text:>5} ", "$text-muted"))
    if compact:
        parts.append((f"{short_tag(task):<4}", "$text-muted"))
    else:
        tag = action_tag(task)
        parts.append((f"{tag:<8}" if len(tag) < 8 else f"{tag} ", "$text-muted"))  # "describe" needs its space
    if task.tags:  # before the prompt: a long prompt is cut at the row's end, the tags are not
        shown = task.tags[:1] if compact else task.tags  # (a narrow row keeps room for the prompt)
        more = f"+{len(task.tags) - len(shown)}" if len(shown) < len(task.tags) else ""
        parts.append((" ".join(f"#{t}" for t in shown) + more + " ", "$accent"))
    parts.append(literal(task.prompt or task.description or task.id, one_line=True))
    row = Content.assemble(*parts)
    if task.status == Status.FAILURE:
        reason = task.fail_reason or "no reason given"
        row = Content.assemble(row, "\n  ", literal(reason, "$error", one_line=True))
    elif task.status == Status.UNCONFIRMED:
        row = Content.assemble(row, "\n  ", ("may be at the provider: enter sends again, x dismisses", "$warning"))
    elif task.status == Status.MODAL:
        row = Content.assemble(row, "\n  ", ("waits for its prompt: enter sends one, x dismisses", "$warning"))
    return row
