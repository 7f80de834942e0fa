"""Prompt parser, linter, permutation expander and parameter completer.

Pure and stdlib-only: the composer calls `lint` and `complete` on every keystroke, so the
common path (no braces) is one linear scan with precompiled, backtracking-free regexes.

Prompt anatomy (domain §1.1): ``[image URLs] text [:: weights] [--param value ...]``.
A parameter starts at ``--``, ``—`` or ``–`` at the start of a word and runs to the next one;
everything before the first parameter (after the leading URLs) is the text body.

Levels follow the evidence in domain §1: only rules backed by official docs or code are
errors (they block submission); reseller-sourced, unverified or disputed rules are warnings.
The tables live in prompt_rules.py.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from . import prompt_rules as R

__all__ = [
    "Completion",
    "Issue",
    "Param",
    "ParsedPrompt",
    "PromptError",
    "Severity",
    "complete",
    "expand_permutations",
    "has_errors",
    "job_count",
    "lint",
    "normalize_version",
    "parse",
]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


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
_URL_TOKEN_RE = re.compile(r"<?https?://[^\s<>]+>?", re.IGNORECASE)
_BODY_URL_RE = re.compile(r"(?<!\S)<?https?://\S+", re.IGNORECASE)
_NUM_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INT_RE = re.compile(r"[+-]?\d+")
_WEIGHT_RE = re.compile(r"::([+-]?(?:\d+(?:\.\d*)?|\.\d+))?")
_ASPECT_RE = re.compile(r"(\d+):(\d+)")
_VERSION_RE = re.compile(r"(\d{1,3})(?:\.(\d{1,3}))?")
_CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_FULLWIDTH_COLON = "\uff1a"


@dataclass(slots=True)
class _RawParam:
    spec: R.ParamSpec | None
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
class _Scan:
    urls: list[tuple[int, int, str]]
    body_start: int
    body_end: int
    params: list[_RawParam]
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
        if i == j or not _URL_TOKEN_RE.fullmatch(text, i, j):
            return urls, i
        urls.append((i, j, text[i:j].strip("<>")))
        i = j


def _scan(text: str) -> _Scan:
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
                Issue(W, "“--” without a parameter name: finish or remove it", m.start(), m.end(), "stray-dashes")
            )
            if heads:
                heads.append(m)
    body_end = heads[0].start() if heads else len(text)
    while body_end > pos and text[body_end - 1].isspace():
        body_end -= 1
    params: list[_RawParam] = []
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
            _RawParam(R.BY_WRITTEN.get(written.lower()), written, dash, m.start(), name_end, value, vstart, vend)
        )
        if dash != "--":
            notes.append(
                Issue(
                    INFO,
                    f"Midjourney reads “{dash}” as “--”; typing --{written} is clearer",
                    m.start(),
                    m.start() + 1,
                    "dash-style",
                )
            )
        if rest and not rest[0].isspace():
            # "--ar16:9": parsed as "--ar 16:9" so the other checks still run
            notes.append(Issue(W, f"Put a space between --{written} and its value", m.start(), vend, "missing-space"))
    return _Scan(urls, pos, body_end, params, notes)


def _segments(body: str) -> tuple[tuple[str, float], ...]:
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
    """ "7.0" -> "7", "v6.1" -> "6.1", "niji6" -> "niji 6", "niji" -> "niji 6"; None if not a version."""
    s = value.strip().lower()
    niji = s.startswith("niji")
    s = s[4:].strip() if niji else s.removeprefix("v").strip()
    if niji and not s:
        return "niji " + R.DEFAULT_NIJI
    m = _VERSION_RE.fullmatch(s)
    if not m:
        return None
    minor = (m.group(2) or "").rstrip("0")
    num = str(int(m.group(1))) + (f".{minor}" if minor else "")
    return f"niji {num}" if niji else num


def _vlabel(version: str) -> str:
    return version if version.startswith("niji") else f"V{version}"


def _resolve_version(params: Iterable[_RawParam], default: str) -> tuple[str, _RawParam | None]:
    """The model the prompt runs on: the last valid --v/--version/--niji, else the default."""
    base = normalize_version(default) or default.strip().lower() or "7"
    version, source = base, None
    for p in params:
        if p.spec is None:
            continue
        if p.spec.name == "version" and p.value:
            v = normalize_version(p.value)
            if v and not v.startswith("niji"):
                version, source = v, p
        elif p.spec.name == "niji":
            if p.value is None:
                num = base[5:] if base.startswith("niji ") else R.DEFAULT_NIJI
                version, source = f"niji {num}", p
            else:
                v = normalize_version(p.value)
                if v and not v.startswith("niji"):
                    version, source = f"niji {v}", p
    return version, source


def parse(text: str, *, default_version: str = "7") -> ParsedPrompt:
    """Tokenise a prompt as typed (braces are not expanded; see expand_permutations)."""
    sc = _scan(text)
    version, _ = _resolve_version(sc.params, default_version)
    body = text[sc.body_start : sc.body_end]
    params = tuple(
        Param(p.spec.name if p.spec else p.written.lower(), p.written, p.value, p.start, p.end) for p in sc.params
    )
    return ParsedPrompt(text, tuple(u for _, _, u in sc.urls), body, params, _segments(body), version)


# --- linting one concrete prompt -----------------------------------------------------------


def _fmt(x: float) -> str:
    s = f"{x:g}"
    return s[1:] if s.startswith("0.") else s.replace("-0.", "-.")


def _works_on(row: dict[str, str]) -> str:
    return ", ".join(_vlabel(v) for v in R.VERSIONS if row[v] == "+" and v not in R.LEGACY_VERSIONS)


@functools.lru_cache(maxsize=256)
def _did_you_mean(name: str) -> str | None:
    guess = difflib.get_close_matches(name, list(R.BY_WRITTEN), n=1, cutoff=0.75)
    return guess[0] if guess else None


def _is_image_link(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    host = path.split("//", 1)[-1].split("/", 1)[0]
    return path.endswith(R.IMAGE_EXTENSIONS) or host in R.IMAGE_HOSTS


class _Linter:
    """Checks one prompt without braces; issues use that prompt's offsets."""

    def __init__(self, text: str, default_version: str, mode: str | None):
        self.text = text
        self.sc = _scan(text)
        self.out: list[Issue] = list(self.sc.notes)
        self.version, self.vparam = _resolve_version(self.sc.params, default_version)
        self.known = self.version in R.VERSIONS
        self.vlabel = _vlabel(self.version)
        self.effective_mode = mode  # the account mode unless a speed flag overrides it
        self.repeat = 1

    def add(self, sev: Severity, msg: str, start: int, end: int, code: str) -> None:
        self.out.append(Issue(sev, msg, start, end, code))

    def run(self) -> list[Issue]:
        sc, text = self.sc, self.text
        body = text[sc.body_start : sc.body_end]
        self._check_images(body)
        first: dict[str, _RawParam] = {}
        last: dict[str, _RawParam] = {}
        speeds: list[_RawParam] = []
        for p in sc.params:
            spec = p.spec
            if spec is None:
                self._unknown(p)
                continue
            name = spec.name
            if name in first:
                self.add(W, f"--{p.written} is given more than once; keep one", p.start, p.end, "duplicate-param")
            else:
                first[name] = p
                if name in R.SPEED_FLAGS:
                    speeds.append(p)
            last[name] = p
            self._check_value(p)
            if spec.legacy:
                self.add(
                    W,
                    f"--{p.written} is a legacy parameter; current models ignore or reject it",
                    p.start,
                    p.end,
                    "legacy-param",
                )
            elif spec.reseller:
                self.add(
                    W,
                    f"--{p.written} is not a verified Midjourney parameter; only some resellers accept it",
                    p.start,
                    p.end,
                    "reseller-param",
                )
            elif self.known:
                self._check_support(p)
        self._check_model_choice(first)
        self._check_combinations(first, last, speeds, bool(body))
        self._check_multiprompt(body)
        return self.out

    # -- pieces --------------------------------------------------------------------------

    def _check_images(self, body: str) -> None:
        sc = self.sc
        if not body and not sc.urls:
            self.add(E, "The prompt is empty: describe what you want to see", 0, len(self.text), "empty-prompt")
        elif not body and len(sc.urls) == 1:
            s, e, _ = sc.urls[0]
            self.add(E, "One image URL needs some text too (or add a second image)", s, e, "image-only")
        for s, e, url in sc.urls:
            if not _is_image_link(url):
                self.add(
                    W,
                    "Image prompts must be direct links ending in .png, .gif, .webp, .jpg or .jpeg",
                    s,
                    e,
                    "image-url",
                )
        for m in _BODY_URL_RE.finditer(self.text, sc.body_start, sc.body_end):
            self.add(
                W,
                "Image URLs must come first to act as image prompts; this one is read as text",
                m.start(),
                m.end(),
                "url-position",
            )

    def _unknown(self, p: _RawParam) -> None:
        guess = _did_you_mean(p.written.lower())
        hint = f"; did you mean --{guess}?" if guess else ""
        self.add(E, f"Unknown parameter --{p.written}{hint}", p.start, p.name_end, "unknown-param")

    def _check_value(self, p: _RawParam) -> None:
        spec, v, w = p.spec, p.value, p.written
        assert spec is not None
        kind = spec.kind
        if kind == "flag":
            if v is not None:
                self.add(W, f"--{w} takes no value; move “{v}” before the parameters", p.vstart, p.vend, "flag-value")
            return
        if kind in ("any", "codes"):
            return
        if kind == "niji":
            n = normalize_version(v) if v is not None else "6"
            if n is None or n.startswith("niji"):
                self.add(E, f"--{w} must be a niji version such as 6 (got {v})", p.vstart, p.vend, "bad-value")
            return
        if v is None:
            self.add(E, f"--{w} needs a value, e.g. --{w} {spec.example}", p.start, p.name_end, "missing-value")
            return
        if kind == "version":
            n = normalize_version(v)
            if n is None or n.startswith("niji"):
                self.add(E, f"--{w} must be a model version such as 7 or 6.1 (got {v})", p.vstart, p.vend, "bad-value")
        elif kind == "aspect":
            self._check_aspect(p)
        elif kind in ("int", "number"):
            self._check_number(p)
        elif kind == "urls":
            toks = v.split()
            bad = [t for t in toks if not _URL_TOKEN_RE.fullmatch(t)]
            if bad:
                self.add(W, f"--{w} expects image URLs (got {bad[0]})", p.vstart, p.vend, "bad-value")
            elif spec.name == "oref" and len(toks) > 1:
                self.add(W, f"--{w} takes a single image URL", p.vstart, p.vend, "bad-value")
        elif spec.name == "style":
            self._check_style(p)
        elif spec.name == "motion" and v.lower() not in ("low", "high"):
            self.add(E, f"--{w} must be low or high (got {v})", p.vstart, p.vend, "bad-value")

    def _check_aspect(self, p: _RawParam) -> None:
        v = p.value or ""
        k = v.find(_FULLWIDTH_COLON)
        if k >= 0:
            self.add(
                INFO,
                "Midjourney accepts a full-width “：” here, but “:” is the standard form",
                p.vstart + k,
                p.vstart + k + 1,
                "fullwidth-colon",
            )
            v = v.replace(_FULLWIDTH_COLON, ":")
        m = _ASPECT_RE.fullmatch(v)
        if m is None:
            self.add(
                E,
                f"--{p.written} must be W:H in whole numbers, e.g. 16:9 or 139:100 (got {p.value})",
                p.vstart,
                p.vend,
                "ar-format",
            )
        elif int(m.group(1)) == 0 or int(m.group(2)) == 0:
            self.add(E, f"--{p.written} sides must be positive (got {p.value})", p.vstart, p.vend, "ar-format")

    def _check_number(self, p: _RawParam) -> None:
        spec, v, w = p.spec, p.value or "", p.written
        assert spec is not None
        whole = spec.kind == "int"
        if not _NUM_RE.fullmatch(v):
            what = "a whole number" if whole else "a number"
            self.add(E, f"--{w} needs {what} (got {v})", p.vstart, p.vend, "bad-value")
            return
        x = float(v)
        if whole and not _INT_RE.fullmatch(v):
            self.add(W, f"--{w} takes whole numbers; {v} may be rounded or rejected", p.vstart, p.vend, "bad-value")
        if spec.name == "repeat" and x >= 1 and _INT_RE.fullmatch(v):
            self.repeat = int(x)  # same rule as job_count()
        if spec.name == "quality":
            allowed = R.QUALITY_SETS.get(self.version)
            if allowed is not None and x not in allowed:
                opts = " ".join(_fmt(q) for q in allowed)
                self.add(
                    W,
                    f"--{w} {v} is not a {self.vlabel} quality ({opts}); Midjourney rounds it",
                    p.vstart,
                    p.vend,
                    "quality-value",
                )
            return
        lo, hi, is_error, where = spec.lo, spec.hi, spec.range_error, ""
        per_version = R.RANGE_BY_VERSION.get(spec.name, {})
        if self.version in per_version:
            lo, hi = per_version[self.version]
            where = f" on {self.vlabel}"
        elif per_version and (not self.known or self.version in R.LEGACY_VERSIONS):
            is_error = False  # no verified range for this model: the generic one is only a hint
        if lo is not None and hi is not None and not lo <= x <= hi:
            self.add(
                E if is_error else W,
                f"--{w} must be {_fmt(lo)}–{_fmt(hi)}{where} (got {v})",
                p.vstart,
                p.vend,
                "out-of-range",
            )

    def _check_style(self, p: _RawParam) -> None:
        value = (p.value or "").lower()
        if not self.known:
            return
        row = R.STYLE_MATRIX.get(value)
        if row is not None:
            cell = row[self.version]
            if cell == "-":
                works = _works_on(row) or "legacy models only"
                self.add(
                    E,
                    f"--style {value} is not supported by {self.vlabel} (works on {works})",
                    p.vstart,
                    p.vend,
                    "version-unsupported",
                )
            elif cell == "?":
                self.add(W, f"--style {value} is unverified on {self.vlabel}", p.vstart, p.vend, "version-unsupported")
            return
        if self.version in R.STYLE_TUNER_VERSIONS and _CODE_RE.fullmatch(value):
            return  # a Style Tuner code, "raw-<code>" or "random-32-15"
        known = [s for s, r in R.STYLE_MATRIX.items() if r[self.version] == "+"]
        hint = f"; {self.vlabel} knows: {', '.join(known)}" if known else ""
        self.add(
            W,
            f"“{p.value}” is not a --style this client knows for {self.vlabel}{hint} "
            "(Style Tuner codes work on V5.2 only)",
            p.vstart,
            p.vend,
            "unknown-style",
        )

    def _check_support(self, p: _RawParam) -> None:
        assert p.spec is not None
        name, w = p.spec.name, p.written
        row = R.MATRIX.get(name)
        if row is None:
            return
        cell = row[self.version]
        if cell == "-":
            hint = R.UNSUPPORTED_HINTS.get((name, self.version), "")
            works = _works_on(row)
            tail = f" (works on {works})" if works else ""
            self.add(E, f"--{w} is not supported by {self.vlabel}{hint}{tail}", p.start, p.end, "version-unsupported")
        elif cell == "?":
            code, msg = R.UNVERIFIED_NOTES.get(
                name, ("version-unsupported", "--{w} is unverified on {ver}; it may be ignored or rejected")
            )
            self.add(W, msg.format(w=w, ver=self.vlabel), p.start, p.end, code)

    def _check_model_choice(self, first: dict[str, _RawParam]) -> None:
        v, n = first.get("version"), first.get("niji")
        if v is not None and n is not None:
            later = max(v, n, key=lambda p: p.start)
            self.add(E, "--v and --niji both choose a model; keep only one", later.start, later.end, "v-and-niji")
        vp = self.vparam
        if vp is not None and not self.known:
            self.add(
                W,
                f"{self.vlabel} is not a model this client knows yet; only general checks apply",
                vp.start,
                vp.end,
                "unverified-version",
            )

    def _check_combinations(
        self, first: dict[str, _RawParam], last: dict[str, _RawParam], speeds: list[_RawParam], has_text: bool
    ) -> None:
        if len(speeds) > 1:
            a, b = speeds[0], speeds[1]
            self.add(
                E, f"--{a.written} and --{b.written} conflict; use one speed flag", b.start, b.end, "speed-conflict"
            )
        # a speed flag in the prompt overrides the account mode; the last one wins
        flags = [p.spec.name for p in self.sc.params if p.spec and p.spec.name in R.SPEED_FLAGS]
        if flags:
            self.effective_mode = flags[-1]
        if self.effective_mode == "relax" and "repeat" in first:
            r = first["repeat"]
            self.add(E, f"--{r.written} only works in Fast or Turbo mode, not Relax", r.start, r.end, "relax-mode")
        q, oref = last.get("quality"), first.get("oref")
        if q is not None and oref is not None and q.value and _NUM_RE.fullmatch(q.value) and float(q.value) == 4:
            # evolink says so [R]; not confirmed by Midjourney, hence a warning
            self.add(W, f"--{q.written} 4 is reported not to work with --oref", q.start, q.end, "incompatible")
        for weight, refs, what in (
            ("cw", ("cref",), "--cref"),
            ("sw", ("sref", "personalize"), "--sref (or --p)"),
            ("ow", ("oref",), "--oref"),
        ):
            p = first.get(weight)
            if p is not None and not any(r in first for r in refs):
                self.add(W, f"--{p.written} has no effect without {what}", p.start, p.end, "missing-reference")
        iw = first.get("iw")
        if iw is not None and not self.sc.urls:
            self.add(
                W,
                f"--{iw.written} has no effect without an image prompt (image URLs at the start)",
                iw.start,
                iw.end,
                "missing-reference",
            )
        if not has_text and self.sc.urls:
            for name in ("sref", "cref"):
                p = first.get(name)
                # with a single URL the URL itself is already flagged as image-only
                if p is not None and len(self.sc.urls) > 1:
                    self.add(E, f"--{p.written} needs a text prompt, not only image URLs", p.start, p.end, "image-only")
            for name in ("stylize", "weird"):
                p = first.get(name)
                if p is not None:
                    self.add(W, f"--{p.written} has no effect on image-only prompts", p.start, p.end, "image-only")

    def _check_multiprompt(self, body: str) -> None:
        k = body.find("::")
        if k < 0:
            return
        start = self.sc.body_start
        total = sum(w for _, w in _segments(body))
        if total <= 0:
            self.add(
                E,
                f"Multi-prompt weights add up to {_fmt(total)}; the total must be positive",
                start,
                self.sc.body_end,
                "weights-sum",
            )
        if self.version == "7":
            # evolink says V7 does not support "::", another source says it behaves differently [R]
            self.add(
                W,
                "Multi-prompts (::) may not work as before on V7 (sources disagree)",
                start + k,
                start + k + 2,
                "multiprompt-v7",
            )


# --- permutations -------------------------------------------------------------------------

_MAX_DEPTH = 32
_BRACE_RE = re.compile(r"[{},]|\\,")


@dataclass(slots=True)
class _Lit:
    text: str
    start: int  # span in the original text ("\," maps one character to two)
    end: int


@dataclass(slots=True)
class _Group:
    start: int
    end: int = -1
    options: list[list] = field(default_factory=lambda: [[]])


def _flush(seq: list, text: str, a: int, b: int, rstrip: bool = False) -> None:
    s = text[a:b]
    if rstrip:
        s = s.rstrip()
    if s:
        seq.append(_Lit(s, a, a + len(s)))


def _trim(option: list) -> None:
    """Options are trimmed like Midjourney does: "{red, green}" -> "red", "green"."""
    while option and isinstance(option[0], _Lit) and option[0].end - option[0].start == len(option[0].text):
        lit = option[0]
        s = lit.text.lstrip()
        if s:
            option[0] = _Lit(s, lit.end - len(s), lit.end)
            break
        option.pop(0)
    while option and isinstance(option[-1], _Lit) and option[-1].end - option[-1].start == len(option[-1].text):
        lit = option[-1]
        s = lit.text.rstrip()
        if s:
            option[-1] = _Lit(s, lit.start, lit.start + len(s))
            break
        option.pop()


def _parse_braces(text: str) -> list:
    """Text -> sequence of _Lit and _Group (whose options are sequences). Iterative, linear."""
    root: list = []
    stack: list[_Group] = []
    cur = root
    lit_start = 0
    for m in _BRACE_RE.finditer(text):
        i, tok = m.start(), m.group()
        if tok == "{":
            _flush(cur, text, lit_start, i)
            g = _Group(i)
            cur.append(g)
            stack.append(g)
            if len(stack) > _MAX_DEPTH:
                raise PromptError(f"Braces are nested more than {_MAX_DEPTH} deep", i, i + 1)
            cur = g.options[-1]
        elif tok == "}":
            if not stack:
                raise PromptError(f"Unmatched “}}” at character {i + 1}: add a “{{” or remove it", i, i + 1)
            _flush(cur, text, lit_start, i)
            g = stack.pop()
            g.end = i + 1
            for option in g.options:
                _trim(option)
            cur = stack[-1].options[-1] if stack else root
        elif not stack:
            continue  # "," and "\," outside braces are plain text
        elif tok == ",":
            _flush(cur, text, lit_start, i)
            stack[-1].options.append([])
            cur = stack[-1].options[-1]
        else:  # "\," is a literal comma; the docs show "pastel \, yellow" -> "pastel, yellow"
            _flush(cur, text, lit_start, i, rstrip=True)
            cur.append(_Lit(",", i, i + 2))
        lit_start = m.end()
    if stack:
        g = stack[-1]
        raise PromptError(f"Unclosed “{{” at character {g.start + 1}: add a matching “}}”", g.start, g.start + 1)
    _flush(root, text, lit_start, len(text))
    return root


def _count(seq: list) -> int:
    n = 1
    for item in seq:
        if isinstance(item, _Group):
            n *= sum(_count(opt) for opt in item.options)
    return n


def _expand(seq: list) -> list[tuple[_Lit, ...]]:
    """All variants in Midjourney's order: the last group varies fastest, nested in place."""
    out: list[tuple[_Lit, ...]] = [()]
    for item in seq:
        if isinstance(item, _Lit):
            out = [(*o, item) for o in out]
        else:
            choices = [c for opt in item.options for c in _expand(opt)]
            out = [o + c for o in out for c in choices]
    return out


def _first(seq: list) -> tuple[_Lit, ...]:
    out: list[_Lit] = []
    for item in seq:
        out.extend((item,) if isinstance(item, _Lit) else _first(item.options[0]))
    return tuple(out)


class _Variant:
    """One expanded prompt and a map from its offsets back to the original text."""

    def __init__(self, pieces: tuple[_Lit, ...]):
        self.pieces = pieces
        self.offsets: list[int] = []
        pos = 0
        for p in pieces:
            self.offsets.append(pos)
            pos += len(p.text)
        self.text = "".join(p.text for p in pieces)

    def _at(self, pos: int) -> tuple[_Lit, int]:
        k = max(0, bisect.bisect_right(self.offsets, pos) - 1)
        return self.pieces[k], pos - self.offsets[k]

    def _map_start(self, pos: int) -> int:
        if not self.pieces:
            return 0
        if pos >= len(self.text):
            return self.pieces[-1].end
        lit, off = self._at(pos)
        return lit.start + off if lit.end - lit.start == len(lit.text) else lit.start

    def remap(self, issue: Issue) -> Issue:
        start = self._map_start(issue.start)
        if issue.end <= issue.start or not self.pieces:
            end = start
        else:
            lit, off = self._at(min(issue.end, len(self.text)) - 1)
            end = lit.start + off + 1 if lit.end - lit.start == len(lit.text) else lit.end
        return Issue(issue.severity, issue.message, start, max(start, end), issue.code)


def _has_braces(text: str) -> bool:
    return "{" in text or "}" in text


def expand_permutations(text: str, *, limit: int = 40) -> list[str]:
    """Expand {a, b} groups into separate prompts, in Midjourney's order.

    Nested groups expand in place; "\\," inside braces is a literal comma. A prompt without
    braces comes back unchanged; expanded prompts have their whitespace collapsed (an empty
    option would otherwise leave double spaces). Raises PromptError on unbalanced braces or
    when there would be more than `limit` prompts.
    """
    if not _has_braces(text):
        return [text]
    tree = _parse_braces(text)
    n = _count(tree)
    if n > limit:
        raise PromptError(f"This prompt expands to {n} prompts, more than the limit of {limit}; remove some options")
    return [" ".join("".join(p.text for p in pieces).split()) for pieces in _expand(tree)]


def _repeat_of(text: str) -> int:
    r = 1
    for p in _scan(text).params:
        if p.spec is not None and p.spec.name == "repeat" and p.value and _INT_RE.fullmatch(p.value):
            r = max(1, int(p.value))
    return r


def job_count(text: str) -> int:
    """Jobs this prompt submits: permutations × --repeat. Never raises (unbalanced braces count as 1)."""
    if not _has_braces(text):
        return _repeat_of(text)
    try:
        tree = _parse_braces(text)
    except PromptError:
        return _repeat_of(text)
    n = _count(tree)
    if n <= R.MAX_JOBS:  # --repeat may itself be permuted ("--r {2, 3}"): count each variant
        return sum(_repeat_of("".join(p.text for p in v)) for v in _expand(tree))
    # beyond any plan's cap the exact figure matters less than staying fast
    return n * _repeat_of("".join(p.text for p in _first(tree)))


# --- lint ---------------------------------------------------------------------------------


def lint(text: str, *, default_version: str = "7", mode: str | None = None) -> list[Issue]:
    """Issues sorted by position. `mode` is the account's speed (fast/relax/turbo) if known.

    A permutation prompt is linted variant by variant (up to the 40-job cap; beyond it, only
    the first variant) and every issue is mapped back onto the text as typed.
    """
    mode_s = str(mode).lower() if mode else None
    issues: list[Issue] = []
    tree: list | None = None
    if _has_braces(text):
        try:
            tree = _parse_braces(text)
        except PromptError as exc:
            issues.append(Issue(E, str(exc), exc.start or 0, exc.end or 0, "braces"))
    groups = [g for g in tree if isinstance(g, _Group)] if tree else []
    if not groups:
        linter = _Linter(text, default_version, mode_s)
        issues.extend(linter.run())
    else:
        assert tree is not None
        n = _count(tree)
        variants = [_Variant(v) for v in (_expand(tree) if n <= R.MAX_JOBS else [_first(tree)])]
        jobs = 0
        relax = False
        for v in variants:
            linter = _Linter(v.text, default_version, mode_s)
            issues.extend(v.remap(i) for i in linter.run())
            jobs += linter.repeat
            relax = relax or linter.effective_mode == "relax"
        if n > R.MAX_JOBS:
            jobs *= n
        g = groups[0]
        if relax:
            issues.append(
                Issue(
                    E,
                    "Permutation prompts {…} only work in Fast or Turbo mode, not Relax",
                    g.start,
                    g.end,
                    "relax-mode",
                )
            )
        if jobs > R.MAX_JOBS:
            # plan caps are per account (Basic 4, Standard 10, Pro/Mega 40); we do not know the plan
            issues.append(
                Issue(
                    W,
                    f"This prompt makes {jobs} jobs; Midjourney allows at most "
                    f"{R.MAX_JOBS} per prompt (Basic 4, Standard 10)",
                    g.start,
                    g.end,
                    "permutation-limit",
                )
            )
    unique = list(dict.fromkeys(issues))  # variants repeat the same findings
    unique.sort(key=lambda i: (i.start, i.end))
    return unique


def has_errors(issues: Iterable[Issue]) -> bool:
    return any(i.severity == Severity.ERROR for i in issues)


# --- completion ---------------------------------------------------------------------------

_HEAD_RE = re.compile(r"(--|[\u2014\u2013])([A-Za-z]*)")


def _version_for(text: str, version: str | None) -> str:
    if version:
        return normalize_version(version) or version.strip().lower()
    return parse(text).version


def _suggestible(spec: R.ParamSpec, version: str) -> bool:
    if not spec.suggest:
        return False
    row = R.MATRIX.get(spec.name)
    return row is None or version not in row or row[version] == "+"


def _param_help(spec: R.ParamSpec, version: str) -> str:
    if spec.name == "quality":
        qs = R.QUALITY_SETS.get(version)
        return f"{' '.join(_fmt(q) for q in qs)}, default 1" if qs else spec.help
    if spec.name == "iw":
        lo, hi = R.RANGE_BY_VERSION["iw"].get(version, (0, 3))
        return f"image prompt weight {_fmt(lo)}–{_fmt(hi)}, default 1"
    if spec.name == "style" and version in R.VERSIONS:
        return "look: " + (", ".join(v for v, _ in _values_for(spec, version)) or "none on this model")
    return spec.help


def _values_for(spec: R.ParamSpec, version: str) -> tuple[tuple[str, str], ...]:
    name = spec.name
    if name == "aspect":
        return R.ASPECT_VALUES
    if name == "version":
        return R.VERSION_VALUES
    if name == "niji":
        return R.NIJI_VALUES
    if name == "quality":
        qs = R.QUALITY_SETS.get(version, (0.25, 0.5, 1, 2, 4))
        return tuple((_fmt(q), "default" if q == 1 else "") for q in qs)
    if name == "style":
        if version not in R.VERSIONS:
            return (("raw", ""),)
        vals = tuple((s, "") for s, row in R.STYLE_MATRIX.items() if row[version] == "+")
        if version in R.STYLE_TUNER_VERSIONS:
            vals += (("random", "random Style Tuner code"),)
        return vals
    if name == "iw":
        hi = R.RANGE_BY_VERSION["iw"].get(version, (0, 3))[1]
        return tuple((_fmt(x), "default" if x == 1 else "") for x in (0.5, 1, 1.5, 2, 3) if x <= hi)
    return R.COMMON_VALUES.get(name, ())


def complete(text: str, cursor: int, *, version: str | None = None) -> list[Completion]:
    """Suggestions at the cursor: parameter names after "--", values after "--name ".

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
        return _complete_names(text, ws, end, head.group(2).lower(), ver, used)
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
    spec = R.BY_WRITTEN.get(prev.group(2).lower())
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


def _complete_names(text: str, start: int, end: int, prefix: str, version: str, used: set[str]) -> list[Completion]:
    space = "" if end < len(text) and text[end].isspace() else " "
    ranked: list[tuple[int, int, int, Completion]] = []
    for order, spec in enumerate(R.PARAMS):
        if spec.name in used or not _suggestible(spec, version):
            continue
        help_ = _param_help(spec, version)
        for k, name in enumerate((spec.name, *spec.aliases)):
            if not name.startswith(prefix):
                continue
            label = f"--{name} ({help_})" if k == 0 else f"--{name} (--{spec.name}: {help_})"
            ranked.append((0 if name == prefix else 1, order, k, Completion(f"--{name}{space}", start, end, label)))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked]
