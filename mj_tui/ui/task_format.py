"""How a task reads on screen: status icon and colour, progress bar, durations.

Rows are built as runs, (text, style) pairs in Textual's style language, without Textual
itself: the first frame draws them before Textual is loaded (see early_frame.py), and the
widgets turn the same runs into Content (Content.assemble takes them), so both look the same.
Text from the server is made safe here (`clean`); a run's text is never read as markup.
"""

from __future__ import annotations

from datetime import datetime

from ..core.models import Status, Task
from ..core.results import origin_name
from ..core.text import clean
from .look import MUTED

#: a piece of a line: its text, and its style ("" for none)
Run = tuple[str, str]

# single-width symbols: emoji widths vary between terminals and break columns
STATUS_LOOK: dict[Status, tuple[str, str, str]] = {
    Status.NOT_START: ("◌", "$warning", "queued"),
    Status.SUBMITTED: ("◌", "$warning", "submitted"),
    Status.IN_PROGRESS: ("◐", "$accent", "running"),
    Status.MODAL: ("✎", "$warning", "needs input"),
    Status.SUCCESS: ("✔", "$success", "done"),
    Status.FAILURE: ("✘", "$error", "failed"),
    Status.CANCEL: ("⊘", MUTED, "cancelled"),
    Status.UNKNOWN: ("?", MUTED, "unknown"),
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


def status_run(task: Task) -> Run:
    icon, style, _ = STATUS_LOOK.get(task.status, STATUS_LOOK[Status.UNKNOWN])
    return (icon, f"bold {style}")


def bar_runs(percent: int, width: int = 8) -> list[Run]:
    percent = max(0, min(100, percent))
    filled = round(width * percent / 100)
    return [
        ("━" * filled, "$accent"),
        ("━" * (width - filled), "$panel-lighten-2"),
        (f" {percent:>3}%", MUTED),
    ]


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


def row_runs(task: Task, now: datetime, *, compact: bool = False) -> list[Run]:
    """One task-list entry: icon, progress or duration, action, prompt; failures add a line."""
    runs: list[Run] = [status_run(task), (" ", "")]
    if task.starred:
        runs[-1] = ("★", "bold $warning")
    if task.status.in_flight:
        runs += [*bar_runs(task.progress, 5 if compact else 8), (" ", "")]
    time_text = elapsed(task, now)
    if time_text:
        runs.append((f"{time_text:>5} ", MUTED))
    if compact:
        runs.append((f"{short_tag(task):<4}", MUTED))
    else:
        tag = action_tag(task)
        runs.append((f"{tag:<8}" if len(tag) < 8 else f"{tag} ", MUTED))  # "describe" needs its space
    if task.tags:  # before the prompt: a long prompt is cut at the row's end, the tags are not
        shown = task.tags[:1] if compact else task.tags  # (a narrow row keeps room for the prompt)
        more = f"+{len(task.tags) - len(shown)}" if len(shown) < len(task.tags) else ""
        runs.append((" ".join(f"#{t}" for t in shown) + more + " ", "$accent"))
    runs.append((clean(task.prompt or task.description or task.id, one_line=True), ""))
    if task.status == Status.FAILURE:
        reason = task.fail_reason or "no reason given"
        runs += [("\n  ", ""), (clean(reason, one_line=True), "$error")]
    elif task.status == Status.UNCONFIRMED:
        runs += [("\n  ", ""), ("may be at the provider: enter sends again, x dismisses", "$warning")]
    elif task.status == Status.MODAL:
        runs += [("\n  ", ""), ("waits for its prompt: enter sends one, x dismisses", "$warning")]
    return runs


#: every style a row's runs can have (the first frame's colours are kept for these)
ROW_STYLES = frozenset(
    {"", "bold $warning", "$accent", "$panel-lighten-2", MUTED, "$error", "$warning"}
    | {f"bold {style}" for _, style, _ in STATUS_LOOK.values()}
)
