"""The prompt linter: what Midjourney will refuse, and what it may ignore.

Only rules backed by Midjourney's own documentation or behaviour are errors (they block a
paid send); rules known only from resellers, unverified or disputed, are warnings. The
tables, and how sure each cell is, live in :mod:`.rules`.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable

from . import rules
from .permute import Group, Pieces, Variant, expand, first_variant, has_braces, parse_braces, variant_count
from .scan import (
    ASPECT_RE,
    BODY_URL_RE,
    CODE_RE,
    FULLWIDTH_COLON,
    INT_RE,
    NUM_RE,
    URL_TOKEN_RE,
    VERSION_RE,
    Issue,
    PromptError,
    RawParam,
    Severity,
    format_number,
    normalize_version,
    resolve_version,
    scan,
    segments,
    version_label,
)

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
# a profile or moodboard code, optionally weighted like "abc123::2"
_PROFILE_CODE_RE = re.compile(r"[A-Za-z0-9_-]+(?:::[+-]?(?:\d+(?:\.\d*)?|\.\d+))?")


def _works_on(row: dict[str, str]) -> str:
    """The current versions a matrix row accepts, runs of three or more joined: "V6–V8.1, niji 6"."""
    runs: list[list[str]] = []
    prev_ok = False
    for v in rules.VERSIONS:
        if v in rules.LEGACY_VERSIONS:
            continue
        ok = row[v] == "+"
        same_family = bool(runs) and runs[-1][0].startswith("niji") == v.startswith("niji")
        if ok and prev_ok and same_family:
            runs[-1].append(v)
        elif ok:
            runs.append([v])
        prev_ok = ok
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            last = run[-1].removeprefix("niji ")
            parts.append(f"{version_label(run[0])}–{last if run[0].startswith('niji') else version_label(last)}")
        else:
            parts.extend(version_label(v) for v in run)
    return ", ".join(parts)


@functools.lru_cache(maxsize=256)
def _did_you_mean(name: str) -> str | None:
    """The parameter a misspelt or cut-short name most likely means ("stop, style or stylize")."""
    guess = difflib.get_close_matches(name, list(rules.BY_WRITTEN), n=1, cutoff=0.75)
    if guess:
        return f"--{guess[0]}"
    # the ones the completer offers first: a legacy name is rarely what was meant
    specs = {spec for written, spec in rules.BY_WRITTEN.items() if written.startswith(name)}
    starting = sorted(s.name for s in specs if s.suggest) or sorted(s.name for s in specs)
    if not starting or len(name) < 2:
        return None
    names = [f"--{n}" for n in starting[:3]]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _is_image_link(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    host = path.split("//", 1)[-1].split("/", 1)[0]
    return path.endswith(rules.IMAGE_EXTENSIONS) or host in rules.IMAGE_HOSTS


def _hint(name: str, version: str) -> str:
    """What to do about a parameter this version does not document: another version, or its successor."""
    m = VERSION_RE.fullmatch(version)
    number = float(m.group(0)) if m else None  # None for niji
    successor = rules.REPLACED_FROM_V7.get(name)
    if successor and (version == "niji 7" or (number is not None and number >= 7)):
        return f"; on V7 and later use {successor} instead"
    target = rules.UPGRADE_TO.get(name)
    if target and (number is None or number < float(target)):
        return f"; switch to --v {target} or later, or remove it"
    return ""


class _Linter:
    """Checks one prompt without braces; issues use that prompt's offsets."""

    def __init__(self, text: str, default_version: str, mode: str | None, video: bool = False):
        self.text = text
        self.scanned = scan(text)
        # a video prompt: sent as a video request, or an imagine prompt with --video in it
        self.video_flag = any(p.spec is not None and p.spec.name == "video" for p in self.scanned.params)
        self.video = video or self.video_flag
        self.out: list[Issue] = list(self.scanned.notes)
        self.version, self.vparam = resolve_version(self.scanned.params, default_version)
        self.known = self.version in rules.VERSIONS
        self.label = version_label(self.version)
        self.effective_mode = mode  # the account mode unless a speed flag overrides it
        self.repeat = 1

    def add(self, severity: Severity, message: str, start: int, end: int, code: str) -> None:
        self.out.append(Issue(severity, message, start, end, code))

    def run(self) -> list[Issue]:
        scanned, text = self.scanned, self.text
        body = text[scanned.body_start : scanned.body_end]
        self._check_images(body)
        first: dict[str, RawParam] = {}
        last: dict[str, RawParam] = {}
        speeds: list[RawParam] = []
        for p in scanned.params:
            spec = p.spec
            if spec is None:
                self._unknown(p)
                continue
            name = spec.name
            if name in first:
                self.add(W, f"--{p.written} is given more than once; keep one", p.start, p.end, "duplicate-param")
            else:
                first[name] = p
                if name in rules.SPEED_FLAGS:
                    speeds.append(p)
            last[name] = p
            self._check_value(p)
            if self.video:
                # the video model is not one of the image versions: only this list applies
                if name not in rules.VIDEO_COMPATIBLE:
                    hint = rules.VIDEO_HINTS.get(name, "")
                    self.add(
                        E,
                        f"--{p.written} does not work on a video prompt (video takes only --motion, --raw, "
                        f"--loop, --end and --bs); remove it{hint}",
                        p.start,
                        p.end,
                        "video-incompatible",
                    )
                continue
            if name in rules.VIDEO_ONLY:
                self.add(
                    W,
                    f"--{p.written} only applies to video: add --video (with the start image URL first) or remove it",
                    p.start,
                    p.end,
                    "video-only",
                )
            elif spec.legacy:
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
        scanned = self.scanned
        if not body and not scanned.urls:
            self.add(E, "The prompt is empty: describe what you want to see", 0, len(self.text), "empty-prompt")
        elif not body and len(scanned.urls) == 1 and not self.video:  # a video's text is optional
            s, e, _ = scanned.urls[0]
            self.add(E, "One image URL needs some text too (or add a second image)", s, e, "image-only")
        for s, e, url in scanned.urls:
            if not _is_image_link(url):
                self.add(
                    W,
                    "Image prompts must be direct links ending in .png, .gif, .webp, .jpg or .jpeg",
                    s,
                    e,
                    "image-url",
                )
        for m in BODY_URL_RE.finditer(self.text, scanned.body_start, scanned.body_end):
            self.add(
                W,
                "Image URLs must come first to act as image prompts; this one is read as text",
                m.start(),
                m.end(),
                "url-position",
            )

    def _unknown(self, p: RawParam) -> None:
        guess = _did_you_mean(p.written.lower())
        if guess:  # a misspelt parameter: Midjourney refuses it ("Invalid parameter")
            self.add(E, f"Unknown parameter --{p.written}; did you mean {guess}?", p.start, p.name_end, "unknown-param")
            return
        # nothing like it: perhaps one newer than this client, so it goes if the person insists
        self.add(
            W,
            f"Unknown parameter --{p.written}: not one this client knows (Midjourney refuses misspelt ones)",
            p.start,
            p.name_end,
            "unknown-param",
        )

    def _check_value(self, p: RawParam) -> None:
        spec, value, written = p.spec, p.value, p.written
        assert spec is not None
        kind = spec.kind
        if kind == "flag":
            if value is not None:
                self.add(
                    W,
                    f"--{written} takes no value; move “{value}” before the parameters",
                    p.vstart,
                    p.vend,
                    "flag-value",
                )
            return
        if kind == "any":
            return
        if kind == "video":
            # proxies and Discord write it "--video 1"
            if value is not None and value != "1":
                self.add(
                    W,
                    f"--{written} takes no value (or 1); move “{value}” before the parameters",
                    p.vstart,
                    p.vend,
                    "flag-value",
                )
            return
        if kind == "codes":
            bad = [t for t in (value or "").split() if not _PROFILE_CODE_RE.fullmatch(t)]
            if bad:
                self.add(
                    W,
                    f"--{written} takes profile codes made of letters and digits (got {bad[0]}); check the code",
                    p.vstart,
                    p.vend,
                    "bad-value",
                )
            return
        if kind == "niji":
            n = normalize_version(value) if value is not None else rules.DEFAULT_NIJI
            if n is None or n.startswith("niji"):
                self.add(
                    E, f"--{written} must be a niji version such as 7 (got {value})", p.vstart, p.vend, "bad-value"
                )
            return
        if value is None:
            self.add(
                E, f"--{written} needs a value, e.g. --{written} {spec.example}", p.start, p.name_end, "missing-value"
            )
            return
        if kind == "version":
            n = normalize_version(value)
            if n is None or n.startswith("niji"):
                self.add(
                    E,
                    f"--{written} must be a model version such as 8.1 or 7 (got {value})",
                    p.vstart,
                    p.vend,
                    "bad-value",
                )
        elif kind == "aspect":
            self._check_aspect(p)
        elif kind in ("int", "number"):
            self._check_number(p)
        elif kind == "urls":
            toks = value.split()
            bad = [t for t in toks if not URL_TOKEN_RE.fullmatch(t)]
            if bad:
                self.add(W, f"--{written} expects image URLs (got {bad[0]})", p.vstart, p.vend, "bad-value")
            elif spec.name == "oref" and len(toks) > 1:
                self.add(W, f"--{written} takes a single image URL", p.vstart, p.vend, "bad-value")
        elif kind == "sref":
            self._check_sref(p)
        elif kind == "end":
            self._check_end(p)
        elif spec.name == "style":
            self._check_style(p)
        elif spec.name == "motion" and value.lower() not in ("low", "high"):
            self.add(E, f"--{written} must be low or high (got {value})", p.vstart, p.vend, "bad-value")

    def _check_sref(self, p: RawParam) -> None:
        for token in (p.value or "").split():
            base = token.split("::", 1)[0]  # "URL::2" and "123::2" weigh one reference
            if not (URL_TOKEN_RE.fullmatch(base) or base.isdigit() or base.lower() == "random"):
                self.add(
                    W,
                    f"--{p.written} takes image URLs, numeric style codes or random (got {token}); check it",
                    p.vstart,
                    p.vend,
                    "bad-value",
                )
                return

    def _check_end(self, p: RawParam) -> None:
        value = p.value or ""
        if value.lower() == "loop":
            # some proxies send "--end loop"; Midjourney only documents --loop
            self.add(W, f"For a looping video write --loop instead of --{p.written} loop", p.start, p.end, "video-loop")
        elif not URL_TOKEN_RE.fullmatch(value):
            self.add(
                W,
                f"--{p.written} takes the image URL of the video's last frame (got {value})",
                p.vstart,
                p.vend,
                "bad-value",
            )
        elif not _is_image_link(value.strip("<>")):
            self.add(
                W,
                f"--{p.written} needs a direct image link ending in .png, .gif, .webp, .jpg or .jpeg",
                p.vstart,
                p.vend,
                "image-url",
            )

    def _check_aspect(self, p: RawParam) -> None:
        value = p.value or ""
        k = value.find(FULLWIDTH_COLON)
        if k >= 0:
            self.add(
                INFO,
                "Midjourney accepts a full-width “：” here, but “:” is the standard form",
                p.vstart + k,
                p.vstart + k + 1,
                "fullwidth-colon",
            )
            value = value.replace(FULLWIDTH_COLON, ":")
        m = ASPECT_RE.fullmatch(value)
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

    def _check_number(self, p: RawParam) -> None:
        spec, value, written = p.spec, p.value or "", p.written
        assert spec is not None
        whole = spec.kind == "int"
        if not NUM_RE.fullmatch(value):
            what = "a whole number" if whole else "a number"
            self.add(E, f"--{written} needs {what} (got {value})", p.vstart, p.vend, "bad-value")
            return
        x = float(value)
        if whole and not INT_RE.fullmatch(value):
            self.add(
                W, f"--{written} takes whole numbers; {value} may be rounded or rejected", p.vstart, p.vend, "bad-value"
            )
        if spec.name == "repeat" and x >= 1 and INT_RE.fullmatch(value):
            self.repeat = int(x)  # same rule as job_count()
        if spec.name == "quality":
            allowed = rules.QUALITY_SETS.get(self.version)
            if allowed is not None and x not in allowed:
                opts = " ".join(format_number(q) for q in allowed)
                self.add(
                    W,
                    f"--{written} {value} is not a {self.label} quality ({opts}); Midjourney rounds it",
                    p.vstart,
                    p.vend,
                    "quality-value",
                )
            return
        lo, hi, is_error, where = spec.lo, spec.hi, spec.range_error, ""
        per_version = rules.RANGE_BY_VERSION.get(spec.name, {})
        if self.version in per_version:
            lo, hi = per_version[self.version]
            where = f" on {self.label}"
        elif per_version and self.version in rules.LEGACY_VERSIONS:
            is_error = False  # no verified range for this old model: the generic one is only a hint
        if lo is not None and hi is not None and not lo <= x <= hi:
            self.add(
                E if is_error else W,
                f"--{written} must be {format_number(lo)}–{format_number(hi)}{where} (got {value})",
                p.vstart,
                p.vend,
                "out-of-range",
            )

    def _check_style(self, p: RawParam) -> None:
        value = (p.value or "").lower()
        if not self.known:
            return
        row = rules.STYLE_MATRIX.get(value)
        if row is not None:
            cell = row[self.version]
            if cell == "-":
                works = _works_on(row) or "legacy models only"
                self.add(
                    E,
                    f"--style {value} is not supported by {self.label} (works on {works})",
                    p.vstart,
                    p.vend,
                    "version-unsupported",
                )
            elif cell == "?":
                self.add(W, f"--style {value} is unverified on {self.label}", p.vstart, p.vend, "version-unsupported")
            return
        if self.version in rules.STYLE_TUNER_VERSIONS and CODE_RE.fullmatch(value):
            return  # a Style Tuner code, "raw-<code>" or "random-32-15"
        known = [s for s, r in rules.STYLE_MATRIX.items() if r[self.version] == "+"]
        hint = f"; {self.label} knows: {', '.join(known)}" if known else ""
        self.add(
            W,
            f"“{p.value}” is not a --style this client knows for {self.label}{hint} "
            "(Style Tuner codes work on V5.2 only)",
            p.vstart,
            p.vend,
            "unknown-style",
        )

    def _check_support(self, p: RawParam) -> None:
        assert p.spec is not None
        name, written = p.spec.name, p.written
        row = rules.MATRIX.get(name)
        if row is None:
            return
        cell = row[self.version]
        if cell == "+":
            return
        hint = _hint(name, self.version)
        works = _works_on(row)
        if cell == "-":
            tail = f" (works on {works})" if works else ""
            self.add(
                E, f"--{written} is not supported by {self.label}{tail}{hint}", p.start, p.end, "version-unsupported"
            )
            return
        note = rules.UNVERIFIED_NOTES.get(name)
        if note is not None:
            code, message = note
        elif works:
            # documented elsewhere only: Midjourney may take it, so it is not refused here
            code = "version-unsupported"
            message = (
                f"--{{w}} is documented for {works}, not {{ver}}: it may be ignored or refused"
                f"{hint or '; check the result'}"
            )
        else:
            code, message = "version-unsupported", "--{w} is unverified on {ver}; it may be ignored or refused"
        self.add(W, message.format(w=written, ver=self.label), p.start, p.end, code)

    def _check_model_choice(self, first: dict[str, RawParam]) -> None:
        version, niji = first.get("version"), first.get("niji")
        if version is not None and niji is not None:
            later = max(version, niji, key=lambda p: p.start)
            self.add(E, "--v and --niji both choose a model; keep only one", later.start, later.end, "v-and-niji")
        vp = self.vparam
        if vp is not None and self.version in rules.UNCONFIRMED_VERSIONS:
            self.add(
                W,
                f"{self.label} is not a documented --v value; write --v {rules.UNCONFIRMED_VERSIONS[self.version]}",
                vp.start,
                vp.end,
                "unverified-version",
            )
        elif vp is not None and not self.known:
            self.add(
                W,
                f"{self.label} is not a model this client knows yet; only general checks apply",
                vp.start,
                vp.end,
                "unverified-version",
            )

    def _check_combinations(
        self, first: dict[str, RawParam], last: dict[str, RawParam], speeds: list[RawParam], has_text: bool
    ) -> None:
        if len(speeds) > 1:
            a, b = speeds[0], speeds[1]
            self.add(
                E, f"--{a.written} and --{b.written} conflict; use one speed flag", b.start, b.end, "speed-conflict"
            )
        # a speed flag in the prompt overrides the account mode; the last one wins
        flags = [p.spec.name for p in self.scanned.params if p.spec and p.spec.name in rules.SPEED_FLAGS]
        if flags:
            self.effective_mode = flags[-1]
        if self.effective_mode == "relax" and "repeat" in first:
            r = first["repeat"]
            self.add(E, f"--{r.written} only works in Fast or Turbo mode, not Relax", r.start, r.end, "relax-mode")
        if self.video:  # image parameters are refused on a video already: no advice on them
            self._check_video(first)
            return
        q, oref = last.get("quality"), first.get("oref")
        if q is not None and oref is not None and q.value and NUM_RE.fullmatch(q.value) and float(q.value) == 4:
            # a reseller reports it; Midjourney does not say so, hence a warning
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
        if iw is not None and not self.scanned.urls:
            self.add(
                W,
                f"--{iw.written} has no effect without an image prompt (image URLs at the start)",
                iw.start,
                iw.end,
                "missing-reference",
            )
        if not has_text and self.scanned.urls:
            for name in ("sref", "cref"):
                p = first.get(name)
                # with a single URL the URL itself is already flagged as image-only
                if p is not None and len(self.scanned.urls) > 1:
                    self.add(E, f"--{p.written} needs a text prompt, not only image URLs", p.start, p.end, "image-only")
            for name in ("stylize", "weird"):
                p = first.get(name)
                if p is not None:
                    self.add(W, f"--{p.written} has no effect on image-only prompts", p.start, p.end, "image-only")

    def _check_video(self, first: dict[str, RawParam]) -> None:
        flag = first.get("video")
        if flag is not None and not self.scanned.urls:
            # a video request carries its image apart from the prompt; an imagine prompt cannot
            self.add(
                W,
                "A video starts from an image: put the first frame's image URL at the start of the prompt",
                flag.start,
                flag.end,
                "video-image",
            )
        loop, end = first.get("loop"), first.get("end")
        if loop is not None and end is not None:
            later = max(loop, end, key=lambda p: p.start)
            self.add(
                W,
                "--loop and --end both set the video's last frame; keep one",
                later.start,
                later.end,
                "video-conflict",
            )
        if self.effective_mode == "relax":
            # Midjourney: Relax video is for Pro and Mega plans only; the plan is unknown here
            relax = first.get("relax") or flag
            span = (relax.start, relax.end) if relax is not None else (0, len(self.text))
            self.add(
                W,
                "Video in Relax mode needs a Pro or Mega plan; on a smaller plan use --fast",
                *span,
                "relax-mode",
            )

    def _check_multiprompt(self, body: str) -> None:
        k = body.find("::")
        if k < 0:
            return
        start = self.scanned.body_start
        total = sum(weight for _, weight in segments(body))
        if total <= 0:
            self.add(
                E,
                f"Multi-prompt weights add up to {format_number(total)}; the total must be positive",
                start,
                self.scanned.body_end,
                "weights-sum",
            )
        if self.version in rules.MULTIPROMPT_DOUBTS and not self.video:
            self.add(
                W,
                f"Multi-prompts (::) may not work as before on {self.label} (sources disagree); check the result",
                start + k,
                start + k + 2,
                "multiprompt-v7",
            )


def lint(
    text: str, *, default_version: str = rules.DEFAULT_VERSION, mode: str | None = None, video: bool = False
) -> list[Issue]:
    """Issues sorted by position. `mode` is the account's speed (fast/relax/turbo) if known;
    `video` says the prompt goes to a video request (a prompt with --video is one anyway).

    A permutation prompt is linted variant by variant (up to the 40-job cap; beyond it, only
    the first variant) and every issue is mapped back onto the text as typed.
    """
    mode_s = str(mode).lower() if mode else None
    issues: list[Issue] = []
    tree: Pieces | None = None
    if has_braces(text):
        try:
            tree = parse_braces(text)
        except PromptError as exc:
            issues.append(Issue(E, str(exc), exc.start or 0, exc.end or 0, "braces"))
    groups = [g for g in tree if isinstance(g, Group)] if tree else []
    if not groups:
        linter = _Linter(text, default_version, mode_s, video)
        issues.extend(linter.run())
    else:
        assert tree is not None
        n = variant_count(tree)
        variants = [Variant(v) for v in (expand(tree) if n <= rules.MAX_JOBS else [first_variant(tree)])]
        jobs = 0
        relax = False
        for variant in variants:
            linter = _Linter(variant.text, default_version, mode_s, video)
            issues.extend(variant.remap(i) for i in linter.run())
            jobs += linter.repeat
            relax = relax or linter.effective_mode == "relax"
        if n > rules.MAX_JOBS:
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
        if jobs > rules.MAX_JOBS:
            # plan caps are per account (Basic 4, Standard 10, Pro/Mega 40); we do not know the plan
            issues.append(
                Issue(
                    W,
                    f"This prompt makes {jobs} jobs; Midjourney allows at most "
                    f"{rules.MAX_JOBS} per prompt (Basic 4, Standard 10)",
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
