"""Reading a prompt as typed: its parts, its parameters, and the model it runs on.

Prompt anatomy: ``[image URLs] text [:: weights] [--param value ...]``. A parameter starts
at ``--``, ``—`` or ``–`` at the start of a word and runs to the next one; everything before
the first parameter (after the leading URLs) is the text body.

Pure and stdlib-only, and quick: the composer lints on every keystroke, so the common path
(no braces) is one linear scan with precompiled, backtracking-free regexes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from . import rules


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Issue:
    severity: Severity
    message: str
    start: int
    end: int
    code: str


@dataclass(frozen=True)
class Param:
    name: str  # canonical ("aspect"), or the written name lower-cased when unknown
    written: str  # as typed ("ar")
    value: str | None
    start: int
    end: int  # span of "--ar 16:9"


@dataclass(frozen=True)
class ParsedPrompt:
    text: str
    image_urls: tuple[str, ...]
    body: str
    params: tuple[Param, ...]
    segments: tuple[tuple[str, float], ...]
    version: str


@dataclass(frozen=True)
class Completion:
    text: str
    start: int
    end: int
    label: str


class PromptError(ValueError):
    """A prompt this client cannot expand; start/end locate the culprit when known."""

    def __init__(self, message: str, start: int | None = None, end: int | None = None):
        super().__init__(message)
        self.start = start
        self.end = end


# --- tokenising ---------------------------------------------------------------------------

# A parameter head: a dash run at the start of a word, then a name. Em/en dashes count
# because Apple devices turn "--" into "—" and Midjourney accepts it.
_PARAM_RE = re.compile(r"(?<!\S)(--|[\u2014\u2013])([A-Za-z]*)")
URL_TOKEN_RE = re.compile(r"<?https?://[^\s<>]+>?", re.IGNORECASE)
BODY_URL_RE = re.compile(r"(?<!\S)<?https?://\S+", re.IGNORECASE)
NUM_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
INT_RE = re.compile(r"[+-]?\d+")
_WEIGHT_RE = re.compile(r"::([+-]?(?:\d+(?:\.\d*)?|\.\d+))?")
ASPECT_RE = re.compile(r"(\d+):(\d+)")
VERSION_RE = re.compile(r"(\d{1,3})(?:\.(\d{1,3}))?")
CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
FULLWIDTH_COLON = "\uff1a"


@dataclass(slots=True)
class RawParam:
    spec: rules.ParamSpec | None
    written: str
    dash: str
    start: int
    name_end: int
    value: str | None
    vstart: int
    vend: int

    @property
    def end(self) -> int:
        return self.vend if self.value is not None else self.name_end


@dataclass(slots=True)
class Scan:
    urls: list[tuple[int, int, str]]
    body_start: int
    body_end: int
    params: list[RawParam]
    notes: list[Issue] = field(default_factory=list)  # tokenisation-level issues


def _leading_urls(text: str) -> tuple[list[tuple[int, int, str]], int]:
    """Whitespace-separated URLs at the very start (Discord echoes them as <url>)."""
    urls: list[tuple[int, int, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        j = i
        while j < n and not text[j].isspace():
            j += 1
        if i == j or not URL_TOKEN_RE.fullmatch(text, i, j):
            return urls, i
        urls.append((i, j, text[i:j].strip("<>")))
        i = j


def scan(text: str) -> Scan:
    """Tokenise `text` once; what the linter, the parser and the job counter all read."""
    urls, pos = _leading_urls(text)
    notes: list[Issue] = []
    heads = []  # parameter heads, plus bare "--" once parameters have started
    for m in _PARAM_RE.finditer(text, pos):
        if m.group(2):
            heads.append(m)
        elif m.group(1) == "--":
            # Not a parameter (Midjourney would likely choke on it). After a parameter it still
            # ends that parameter's value, so "--v 6.1 --" being typed keeps "--v 6.1" intact.
            notes.append(
                Issue(
                    Severity.WARNING,
                    "“--” without a parameter name: finish or remove it",
                    m.start(),
                    m.end(),
                    "stray-dashes",
                )
            )
            if heads:
                heads.append(m)
    body_end = heads[0].start() if heads else len(text)
    while body_end > pos and text[body_end - 1].isspace():
        body_end -= 1
    params: list[RawParam] = []
    for k, m in enumerate(heads):
        dash, written = m.group(1), m.group(2)
        if not written:
            continue
        nxt = heads[k + 1].start() if k + 1 < len(heads) else len(text)
        name_end = m.end()
        rest = text[name_end:nxt]
        value = rest.strip() or None
        vstart = vend = name_end
        if value is not None:
            vstart = name_end + (len(rest) - len(rest.lstrip()))
            vend = vstart + len(value)
        params.append(
            RawParam(rules.BY_WRITTEN.get(written.lower()), written, dash, m.start(), name_end, value, vstart, vend)
        )
        if dash != "--":
            notes.append(
                Issue(
                    Severity.INFO,
                    f"Midjourney reads “{dash}” as “--”; typing --{written} is clearer",
                    m.start(),
                    m.start() + 1,
                    "dash-style",
                )
            )
        if rest and not rest[0].isspace():
            # "--ar16:9": parsed as "--ar 16:9" so the other checks still run
            notes.append(
                Issue(
                    Severity.WARNING, f"Put a space between --{written} and its value", m.start(), vend, "missing-space"
                )
            )
    return Scan(urls, pos, body_end, params, notes)


def segments(body: str) -> tuple[tuple[str, float], ...]:
    """Split "hot::2 dog::-.5 cat" into weighted parts; an unspecified weight is 1."""
    if not body:
        return ()
    if "::" not in body:
        return ((body, 1.0),)
    segs: list[tuple[str, float]] = []
    last = 0
    for m in _WEIGHT_RE.finditer(body):
        segs.append((body[last : m.start()].strip(), float(m.group(1)) if m.group(1) else 1.0))
        last = m.end()
    tail = body[last:].strip()
    if tail:
        segs.append((tail, 1.0))
    return tuple(segs)


# --- versions -----------------------------------------------------------------------------


def normalize_version(value: str) -> str | None:
    """ "7.0" -> "7", "v6.1" -> "6.1", "niji6" -> "niji 6", "niji" -> "niji 7"; None if not a version."""
    s = value.strip().lower()
    niji = s.startswith("niji")
    s = s[4:].strip() if niji else s.removeprefix("v").strip()
    if niji and not s:
        return "niji " + rules.DEFAULT_NIJI
    m = VERSION_RE.fullmatch(s)
    if not m:
        return None
    minor = (m.group(2) or "").rstrip("0")
    num = str(int(m.group(1))) + (f".{minor}" if minor else "")
    return f"niji {num}" if niji else num


def version_label(version: str) -> str:
    """ "V7", "V6.1", or "niji 6": how Midjourney names a model."""
    return version if version.startswith("niji") else f"V{version}"


def resolve_version(params: Iterable[RawParam], default: str) -> tuple[str, RawParam | None]:
    """The model the prompt runs on: the last valid --v/--version/--niji, else the default."""
    base = normalize_version(default) or default.strip().lower() or rules.DEFAULT_VERSION
    version, source = base, None
    for p in params:
        if p.spec is None:
            continue
        if p.spec.name == "version" and p.value:
            number = normalize_version(p.value)
            if number and not number.startswith("niji"):
                version, source = number, p
        elif p.spec.name == "niji":
            if p.value is None:
                num = base[5:] if base.startswith("niji ") else rules.DEFAULT_NIJI
                version, source = f"niji {num}", p
            else:
                number = normalize_version(p.value)
                if number and not number.startswith("niji"):
                    version, source = f"niji {number}", p
    return version, source


def parse(text: str, *, default_version: str = rules.DEFAULT_VERSION) -> ParsedPrompt:
    """Tokenise a prompt as typed (braces are not expanded; see expand_permutations)."""
    scanned = scan(text)
    version, _ = resolve_version(scanned.params, default_version)
    body = text[scanned.body_start : scanned.body_end]
    params = tuple(
        Param(p.spec.name if p.spec else p.written.lower(), p.written, p.value, p.start, p.end) for p in scanned.params
    )
    return ParsedPrompt(text, tuple(u for _, _, u in scanned.urls), body, params, segments(body), version)


def format_number(x: float) -> str:
    """0.5 -> ".5", 2.0 -> "2": numbers as Midjourney's docs write them."""
    s = f"{x:g}"
    return s[1:] if s.startswith("0.") else s.replace("-0.", "-.")
