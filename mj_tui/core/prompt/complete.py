"""Completion at the cursor: parameter names after ``--``, their values after ``--name ``."""

from __future__ import annotations

import re

from . import rules
from .scan import Completion, format_number, normalize_version, parse

_HEAD_RE = re.compile(r"(--|[\u2014\u2013])([A-Za-z]*)")


def _version_for(text: str, version: str | None) -> str:
    if version:
        return normalize_version(version) or version.strip().lower()
    return parse(text).version


def _suggestible(spec: rules.ParamSpec, version: str, video: bool, prefix: str) -> bool:
    if not spec.suggest:
        return False
    if video:  # a video prompt takes only a few parameters, whatever the image version
        return spec.name in rules.VIDEO_COMPATIBLE and spec.name != "video"
    if spec.name in rules.VIDEO_ONLY and spec.name != "video":
        return bool(prefix)  # found when typed, not listed among the image parameters
    row = rules.MATRIX.get(spec.name)
    return row is None or version not in row or row[version] == "+"


def _param_help(spec: rules.ParamSpec, version: str) -> str:
    if spec.name == "quality":
        qs = rules.QUALITY_SETS.get(version)
        return f"{' '.join(format_number(q) for q in qs)}, default 1" if qs else spec.help
    if spec.name == "iw":
        lo, hi = rules.RANGE_BY_VERSION["iw"].get(version, (0, 3))
        return f"image prompt weight {format_number(lo)}–{format_number(hi)}, default 1"
    if spec.name == "style" and version in rules.VERSIONS:
        return "look: " + (", ".join(v for v, _ in _values_for(spec, version)) or "none on this model")
    return spec.help


def _values_for(spec: rules.ParamSpec, version: str) -> tuple[tuple[str, str], ...]:
    name = spec.name
    if name == "aspect":
        return rules.ASPECT_VALUES
    if name == "version":
        return rules.VERSION_VALUES
    if name == "niji":
        return rules.NIJI_VALUES
    if name == "quality":
        qs = rules.QUALITY_SETS.get(version, (0.25, 0.5, 1, 2, 4))
        return tuple((format_number(q), "default" if q == 1 else "") for q in qs)
    if name == "style":
        if version not in rules.VERSIONS:
            return (("raw", ""),)
        vals = tuple((s, "") for s, row in rules.STYLE_MATRIX.items() if row[version] == "+")
        if version in rules.STYLE_TUNER_VERSIONS:
            vals += (("random", "random Style Tuner code"),)
        return vals
    if name == "iw":
        hi = rules.RANGE_BY_VERSION["iw"].get(version, (0, 3))[1]
        return tuple((format_number(x), "default" if x == 1 else "") for x in (0.5, 1, 1.5, 2, 3) if x <= hi)
    return rules.COMMON_VALUES.get(name, ())


def complete(text: str, cursor: int, *, version: str | None = None, video: bool = False) -> list[Completion]:
    """Suggestions at the cursor: parameter names after "--", values after "--name ".

    `video` says the prompt goes to a video request (a prompt with --video is one anyway).
    Each Completion replaces text[start:end] and ends with a space unless one already follows.
    """
    cursor = max(0, min(cursor, len(text)))
    ws = cursor
    while ws > 0 and not text[ws - 1].isspace():
        ws -= 1
    word = text[ws:cursor]
    head = _HEAD_RE.fullmatch(word)
    if head is not None:
        end = cursor
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        parsed = parse(text)
        # parameters already in the prompt are not offered again (the one being typed is)
        used = {q.name for q in parsed.params if not q.start <= ws <= q.end}
        ver = normalize_version(version) or version.strip().lower() if version else parsed.version
        is_video = video or any(q.name == "video" for q in parsed.params)
        return _complete_names(text, ws, end, head.group(2).lower(), ver, used, is_video)
    # a value: the previous word must be a parameter head
    k = ws
    while k > 0 and text[k - 1].isspace():
        k -= 1
    if k == ws:
        return []
    p = k
    while p > 0 and not text[p - 1].isspace():
        p -= 1
    prev = _HEAD_RE.fullmatch(text, p, k)
    if prev is None or not prev.group(2):
        return []
    spec = rules.BY_WRITTEN.get(prev.group(2).lower())
    if spec is None:
        return []
    end = cursor
    while end < len(text) and not text[end].isspace():
        end += 1
    prefix = word.lower()
    space = "" if end < len(text) else " "
    return [
        Completion(value + space, ws, end, f"{value} ({note})" if note else value)
        for value, note in _values_for(spec, _version_for(text, version))
        if value.lower().startswith(prefix)
    ]


def _complete_names(
    text: str, start: int, end: int, prefix: str, version: str, used: set[str], video: bool
) -> list[Completion]:
    space = "" if end < len(text) and text[end].isspace() else " "
    ranked: list[tuple[int, int, int, int, Completion]] = []
    for order, spec in enumerate(rules.PARAMS):
        if spec.name in used or not _suggestible(spec, version, video, prefix):
            continue
        help_ = _param_help(spec, version)
        for k, name in enumerate((spec.name, *spec.aliases)):
            if not name.startswith(prefix):
                continue
            label = f"--{name} ({help_})" if k == 0 else f"--{name} (--{spec.name}: {help_})"
            # on a video prompt its own parameters come first
            first = 0 if video and spec.name in rules.VIDEO_ONLY else 1
            completion = Completion(f"--{name}{space}", start, end, label)
            ranked.append((0 if name == prefix else 1, first, order, k, completion))
    ranked.sort(key=lambda r: r[:4])
    return [r[4] for r in ranked]
