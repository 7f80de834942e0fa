"""The key map as a person reads it: every binding's keys after the user's keymap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from textual.app import App
from textual.binding import Binding

# extra key sequences that are not single Bindings (documented in help)
CHORDS = [
    ("u then 1-4", "Upscale quadrant (U1–U4); just u when zoomed in"),
    ("v then 1-4", "Variations of a quadrant (V1–V4); just v when zoomed in"),
    ("r", "Reroll 🔄 (a new grid from the same prompt)"),
    ("tab / shift+tab", "Next / previous pane"),
    ("ctrl+p", "Command palette: every action, every button of the task"),
    ("enter on a task", "Describe/Shorten: pick one of its prompts · waiting (✎): answer its dialog"),
    ("{a, b} in a prompt", "Permutations: one job per variant, counted in the prompt's border; over 4 asks first"),
]


def help_rows(app: App, bindings: list[Binding], keymap: Mapping[str, str]) -> list[tuple[str, str]]:
    """(keys, what) rows; a footer group (1-4 Zoom) becomes one row."""
    rows: list[tuple[str, str]] = []
    grouped: dict[object, int] = {}
    for binding in bindings:
        keys = key_text(app, binding, keymap)
        what = binding.tooltip or binding.description
        if binding.group is not None:
            if binding.group in grouped:
                index = grouped[binding.group]
                rows[index] = (f"{rows[index][0]} {keys}", rows[index][1])
                continue
            grouped[binding.group] = len(rows)
            what = GROUP_HELP.get(binding.group.description, what)
        rows.append((keys, what))
    return rows


GROUP_HELP = {
    "Zoom": "Zoom into quadrant 1-4 of a grid (top-left, top-right, bottom-left, bottom-right)",
    "Page": "Previous / next page of tasks",
}


def bindings_of(classes: Iterable[type]) -> list[Binding]:
    seen: set[str] = set()
    out: list[Binding] = []
    for cls in classes:
        for item in cls.__dict__.get("BINDINGS", []):
            binding = item if isinstance(item, Binding) else Binding(*item)
            ident = binding.id or f"{cls.__name__}.{binding.action}"
            if ident in seen or not binding.description:
                continue
            seen.add(ident)
            out.append(binding)
    return out


def key_text(app: App, binding: Binding, keymap: Mapping[str, str]) -> str:
    """All keys of a binding, e.g. '^j / ^s', honouring the user's keymap."""
    if binding.id and binding.id in keymap:
        keys = [k.strip() for k in keymap[binding.id].split(",") if k.strip()]
        return " / ".join(app.get_key_display(replace(binding, key=k, key_display=None)) for k in keys)
    if binding.key_display:
        return binding.key_display
    keys = [k.strip() for k in binding.key.split(",") if k.strip()]
    return " / ".join(app.get_key_display(replace(binding, key=k)) for k in keys)
