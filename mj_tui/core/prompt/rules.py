"""Data tables for the prompt linter and completer (the logic is in the sibling modules).

Each fact carries the evidence behind it, because the evidence decides how hard the linter
may be (docs/prompt-rules.md has the sources):

    [O] Midjourney's own documentation      [C] public code or captured API payloads
    [R] a reseller's documentation          [U] unverified (one blog, or recollection)

Matrix cells:

    +  accepted (official docs, code, or a reseller saying it works: no reason to complain)
    -  rejected according to [O]/[C]: the linter raises an ERROR
    ?  unverified or reseller-only: the linter raises a WARNING, never an error

Stdlib only: mj_tui.core never imports textual.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column order of every matrix below. "niji N" is the Niji model; bare numbers are --v.
VERSIONS: tuple[str, ...] = (
    "1",
    "2",
    "3",
    "4",
    "5",
    "5.1",
    "5.2",
    "6",
    "6.1",
    "7",
    "8",
    "8.1",
    "niji 4",
    "niji 5",
    "niji 6",
    "niji 7",
)
# The model a prompt without --v or --niji runs on: V8.1 has been Midjourney's default since
# mid-2026 [C] (a proxy's version logic and its history), and bare `--niji` means niji 7 [C].
DEFAULT_VERSION = "8.1"
DEFAULT_NIJI = "7"
LEGACY_VERSIONS = frozenset({"1", "2", "3", "4", "niji 4"})
# Versions a proxy recognises but no source lists as a --v value: named, with a warning.
UNCONFIRMED_VERSIONS: dict[str, str] = {"8": "8.1"}


@dataclass(frozen=True)
class ParamSpec:
    name: str  # canonical
    aliases: tuple[str, ...] = ()
    # flag | int | number | aspect | text | urls | word | version | niji | codes | sref | video
    # | end | any
    kind: str = "flag"
    lo: float | None = None
    hi: float | None = None
    range_error: bool = True  # out of range is an ERROR (well sourced) or only a WARNING
    help: str = ""
    example: str = ""  # shown when the value is missing
    legacy: bool = False  # accepted but warned about (Discord-era leftovers)
    reseller: bool = False  # exposed by some resellers, not a verified MJ parameter
    suggest: bool = True  # offered by the completer


# Order = completion order (most used first).
PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("aspect", ("ar",), "aspect", help="W:H, default 1:1", example="16:9"),
    ParamSpec("version", ("v",), "version", help="model version, e.g. 8.1 or 7", example="8.1"),
    ParamSpec("niji", (), "niji", help="anime model: 7, 6 or 5", example="7"),
    ParamSpec("stylize", ("s",), "int", 0, 1000, help="0–1000, default 100", example="250"),
    ParamSpec("chaos", ("c",), "int", 0, 100, help="0–100, default 0", example="25"),
    ParamSpec("quality", ("q",), "number", help="GPU effort, default 1", example="1"),
    ParamSpec("weird", ("w",), "int", 0, 3000, help="0–3000, default 0", example="250"),
    ParamSpec("no", (), "text", help="what to leave out: --no a, b", example="text, frame"),
    ParamSpec("style", (), "word", help="look: raw; niji 5 has cute, expressive, original, scenic", example="raw"),
    ParamSpec("raw", (), "flag", help="same as --style raw"),
    ParamSpec("seed", (), "int", 0, 4294967295, help="0–4294967295", example="1234"),
    ParamSpec("stop", (), "int", 10, 100, help="finish early at 10–100 %, default 100", example="80"),
    ParamSpec("tile", (), "flag", help="seamless repeating pattern"),
    # 2–40 is the Pro/Mega cap; lower plans allow less, and we do not know the plan: warn only
    ParamSpec("repeat", ("r",), "int", 2, 40, False, help="2–40 runs, Fast/Turbo only", example="4"),
    ParamSpec("iw", (), "number", 0, 3, help="image prompt weight, default 1", example="1"),
    ParamSpec("sref", (), "sref", help="style reference: image URLs, style codes or random", example="random"),
    ParamSpec("sw", (), "int", 0, 1000, help="style weight 0–1000, default 100", example="100"),
    # sources disagree on the range (1–4 in V6 docs, 1–6 per a reseller, "4 = the older
    # system" in a proxy's table): accept 1–6 and only warn
    ParamSpec("sv", (), "int", 1, 6, False, help="style reference version; 4 = older codes", example="4"),
    ParamSpec("cref", (), "urls", help="character reference image URLs", example="https://…/face.png"),
    ParamSpec("cw", (), "int", 0, 100, help="character weight 0–100, default 100", example="100"),
    ParamSpec("oref", (), "urls", help="omni reference: one image URL, V7+", example="https://…/object.png"),
    # 0–1000 in a proxy's parameter table [C]; one reseller says 1–1000, the table wins
    ParamSpec("ow", (), "int", 0, 1000, help="omni weight 0–1000, default 100", example="100"),
    ParamSpec("personalize", ("p", "profile"), "codes", help="personalization, optional profile codes"),
    ParamSpec("draft", (), "flag", help="draft mode: faster, half the cost, V7+"),
    ParamSpec("exp", (), "int", 0, 100, help="experimental aesthetics 0–100, default 0", example="10"),
    ParamSpec("fast", (), "flag", help="run this job in Fast mode"),
    ParamSpec("relax", (), "flag", help="run this job in Relax mode"),
    ParamSpec("turbo", (), "flag", help="run this job in Turbo mode"),
    # Video: `--video` (as `--video 1` from proxies and Discord) turns the prompt into a video
    # job from its first image URL; the others only mean something on such a prompt.
    ParamSpec("video", (), "video", help="animate the first image URL into 5 s clips"),
    ParamSpec("motion", (), "word", help="video motion: low or high, default low", example="low"),
    ParamSpec("loop", (), "flag", help="video: loop back to the first frame"),
    ParamSpec("end", (), "end", help="video: last frame image URL", example="https://…/last.png"),
    # 1–4 in a proxy's table [C]; the video API offers 1, 2 and 4 (the default)
    ParamSpec("bs", (), "int", 1, 4, help="video clips per job: 1, 2 or 4, default 4", example="2"),
    ParamSpec("zoom", (), "number", 1, 2, False, help="Custom Zoom only, 1–2", example="1.5", suggest=False),
    # Discord-era leftovers: accepted, warned [U]
    *(
        ParamSpec(n, (), "any", legacy=True, suggest=False)
        for n in (
            "hd",
            "test",
            "testp",
            "creative",
            "uplight",
            "upbeta",
            "upanime",
            "sameseed",
            "public",
            "stealth",
        )
    ),
    # apimart / AceDataCloud expose these; not verified as Midjourney parameters [R]
    ParamSpec("dref", (), "any", reseller=True, suggest=False),
    ParamSpec("dw", (), "any", reseller=True, suggest=False),
)

# every accepted spelling (lower case) -> spec
BY_WRITTEN: dict[str, ParamSpec] = {}
for _p in PARAMS:
    for _n in (_p.name, *_p.aliases):
        BY_WRITTEN[_n] = _p
SPEED_FLAGS = ("fast", "relax", "turbo")

# Video parameters: meaningless on an image prompt.
VIDEO_ONLY = frozenset({"video", "motion", "loop", "end", "bs"})
# What a video prompt may carry. Midjourney's own documentation: videos are "only compatible
# with video-specific parameters", --motion, --raw, --loop, --end and --bs [O]. Speed flags choose the job's mode
# (Relax video exists on Pro/Mega), and --seed is appended to every Discord prompt, video
# included, by a widely used proxy [C], so Midjourney takes both.
VIDEO_COMPATIBLE = VIDEO_ONLY | {"raw", "seed", *SPEED_FLAGS}
# What to do instead, for parameters people try on videos.
VIDEO_HINTS: dict[str, str] = {
    "hd": "; HD video is a setting of the video request, not a prompt parameter",
    "version": "; the video model has no versions",
    "niji": "; the video model has no versions",
}


def _table(text: str) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        name, *cells = line.split()
        assert len(cells) == len(VERSIONS), f"matrix row {name!r} has {len(cells)} cells"
        assert set(cells) <= {"+", "-", "?"}, name
        rows[name] = dict(zip(VERSIONS, cells, strict=True))
    return rows


# Version × parameter matrix: the V5–V7 columns from the parameter pages, the legacy columns
# from the early-models page, V8/V8.1 and niji 7 from a proxy's parameter table [C] and
# resellers [R]. That table only annotates parameters with versions ("V7", "V6, Niji 6"); it
# does not say Midjourney refuses them elsewhere, so those cells are "?" (a warning), and
# nothing is known to be refused on V8/V8.1. --oref, --ow, --exp and --draft on V8.1 are "+"
# because resellers document them there; V8 itself is only recognised, never documented.
# Parameters not listed work on every version: aspect chaos no quality seed stop stylize style
# version niji fast relax. Video parameters have their own rules (VIDEO_COMPATIBLE).
MATRIX = _table(
    """
#             v1 v2 v3 v4 v5 5.1 5.2 v6 6.1 v7 v8 8.1 n4 n5 n6 n7
repeat        ?  ?  ?  ?  +  +   +   +  +   +  +  +   ?  +  +  +
raw           ?  ?  ?  ?  ?  +   +   +  +   +  +  +   ?  ?  ?  ?
tile          +  +  +  -  +  +   +   +  +   +  +  +   ?  ?  ?  ?
weird         -  -  -  -  +  +   +   +  +   +  +  +   -  +  +  +
iw            ?  ?  +  -  +  +   +   +  +   +  +  +   ?  +  +  +
sref          -  -  -  -  -  -   -   +  +   +  +  +   -  -  +  +
sw            -  -  -  -  -  -   -   +  +   +  +  +   -  -  +  +
sv            -  -  -  -  -  -   -   +  +   +  ?  ?   -  -  +  ?
cref          -  -  -  -  -  -   -   +  +   ?  ?  ?   -  -  +  ?
cw            -  -  -  -  -  -   -   +  +   ?  ?  ?   -  -  +  ?
oref          ?  ?  ?  ?  ?  ?   ?   ?  ?   +  ?  +   ?  ?  ?  ?
ow            ?  ?  ?  ?  ?  ?   ?   ?  ?   +  ?  +   ?  ?  ?  ?
personalize   -  -  -  -  -  -   -   +  +   +  +  +   -  -  +  +
draft         ?  ?  ?  ?  ?  ?   ?   ?  ?   +  ?  +   ?  ?  ?  ?
exp           ?  ?  ?  ?  ?  ?   ?   ?  ?   +  ?  +   ?  ?  ?  ?
turbo         ?  ?  ?  ?  +  +   +   +  +   +  +  +   ?  +  +  +
zoom          ?  ?  ?  ?  ?  ?   ?   ?  ?   ?  ?  ?   ?  ?  ?  ?
"""
)

# `--style <value>` by version. Style Tuner codes (`--style abc123`, `raw-abc123`, `random-32`)
# are V5.2 only [O]; any other value is an unknown-style warning. `raw` is V5.1 and later [C].
STYLE_MATRIX = _table(
    """
#             v1 v2 v3 v4 v5 5.1 5.2 v6 6.1 v7 v8 8.1 n4 n5 n6 n7
raw           -  -  -  -  -  +   +   +  +   +  +  +   -  -  +  ?
cute          -  -  -  -  -  -   -   -  -   -  -  -   -  +  ?  ?
expressive    -  -  -  -  -  -   -   -  -   -  -  -   -  +  ?  ?
original      -  -  -  -  -  -   -   -  -   -  -  -   -  +  ?  ?
scenic        -  -  -  -  -  -   -   -  -   -  -  -   -  +  ?  ?
4a            -  -  -  +  -  -   -   -  -   -  -  -   -  -  -  -
4b            -  -  -  +  -  -   -   -  -   -  -  -   -  -  -  -
4c            -  -  -  +  -  -   -   -  -   -  -  -   -  -  -  -
"""
)
STYLE_TUNER_VERSIONS = frozenset({"5.2"})

# What a "?" cell means for a few parameters, instead of the generic message.
UNVERIFIED_NOTES: dict[str, tuple[str, str]] = {
    "zoom": ("version-unsupported", "--{w} only works inside the Custom Zoom dialog; remove it here"),
}
# What to do instead, appended to a "not supported" or "not documented" message: the first
# version a parameter is documented for (said to people on older models and on niji)...
UPGRADE_TO: dict[str, str] = {
    "oref": "7",
    "ow": "7",
    "draft": "7",
    "exp": "7",
    "sref": "6",
    "sw": "6",
    "sv": "6",
    "personalize": "6",
}
# ...and what replaced a parameter from V7 on (said to people on V7 and later).
REPLACED_FROM_V7: dict[str, str] = {"cref": "--oref (omni reference)", "cw": "--oref with --ow"}
# Versions where "::" multi-prompts are disputed: one reseller says V7 has none, another that
# it behaves differently; nothing is known for V8.
MULTIPROMPT_DOUBTS = frozenset({"7", "8", "8.1"})

# --quality values by version. V5.x/V6 [O]; 6.1's "2" [U]; V7 is .25/.5/1 "and 4" in a proxy's
# table [C] and 1/2/4 per a reseller [R], so both. Off-set values are rounded by Midjourney,
# so the linter only warns; nothing is known for V8/V8.1 or niji 7, so they are not checked.
QUALITY_SETS: dict[str, tuple[float, ...]] = {
    "4": (0.25, 0.5, 1),
    "5": (0.25, 0.5, 1),
    "5.1": (0.25, 0.5, 1),
    "5.2": (0.25, 0.5, 1),
    "6": (0.25, 0.5, 1),
    "6.1": (0.25, 0.5, 1, 2),
    "7": (0.25, 0.5, 1, 2, 4),
    "niji 5": (0.25, 0.5, 1),
    "niji 6": (0.25, 0.5, 1),
}

# Ranges that depend on the version; the spec's lo/hi apply elsewhere.
# --iw: docs copy table "V6 0–3, V5 0–2, niji 6 0–3, niji 5 0–2" [O]; V6.1/V7 0–3 [O]/[R];
# V5 and later 0–3 per a proxy's table [C]. V3 legacy −10000..10000. --stylize on V3 was 625–60000.
RANGE_BY_VERSION: dict[str, dict[str, tuple[float, float]]] = {
    "iw": {
        "3": (-10000, 10000),
        "5": (0, 2),
        "5.1": (0, 2),
        "5.2": (0, 2),
        "niji 5": (0, 2),
        "6": (0, 3),
        "6.1": (0, 3),
        "7": (0, 3),
        "8": (0, 3),
        "8.1": (0, 3),
        "niji 6": (0, 3),
        "niji 7": (0, 3),
    },
    "stylize": {"3": (625, 60000)},
}

# Direct image links must end in one of these [O] (image-prompts page).
IMAGE_EXTENSIONS = (".png", ".gif", ".webp", ".jpg", ".jpeg")
# Hosts whose links are images without an extension (Midjourney's own short links).
IMAGE_HOSTS = ("s.mj.run",)

# Plan caps on jobs per prompt: Basic 4, Standard 10, Pro/Mega 40 [O] docs copy.
MAX_JOBS = 40

# --- completion values: (value, note) -------------------------------------------------------
ASPECT_VALUES = (
    ("1:1", "square, default"),
    ("2:3", "portrait"),
    ("3:2", "landscape"),
    ("3:4", "portrait"),
    ("4:3", "landscape"),
    ("4:5", "portrait print"),
    ("5:4", "print"),
    ("7:4", "close to 16:9"),
    ("9:16", "phone"),
    ("16:9", "widescreen"),
)
VERSION_VALUES = (
    ("8.1", "current default"),
    ("7", ""),
    ("6.1", ""),
    ("6", ""),
    ("5.2", ""),
    ("5.1", ""),
    ("5", ""),
)
NIJI_VALUES = (("7", "current niji"), ("6", ""), ("5", "styles cute, expressive, original, scenic"))
COMMON_VALUES: dict[str, tuple[tuple[str, str], ...]] = {
    "stylize": (
        ("0", ""),
        ("50", "low"),
        ("100", "default"),
        ("250", "high"),
        ("500", ""),
        ("750", "very high"),
        ("1000", "max"),
    ),
    "chaos": (("0", "default"), ("10", ""), ("25", ""), ("50", ""), ("100", "max")),
    "weird": tuple((str(v), "default" if v == 0 else "") for v in range(0, 3001, 250)),
    "exp": (("5", ""), ("10", ""), ("25", "keep to 25 or less with --s or --p"), ("50", ""), ("100", "max")),
    "sw": (("0", ""), ("50", ""), ("100", "default"), ("250", ""), ("500", ""), ("1000", "max")),
    "cw": (("0", "face only"), ("50", ""), ("100", "default: face, hair, clothes")),
    "ow": (("25", ""), ("100", "default"), ("250", ""), ("400", "suggested max"), ("1000", "max")),
    "sv": tuple((str(v), "older style codes" if v == 4 else "") for v in range(1, 7)),
    "motion": (("low", "default"), ("high", "")),
    "bs": (("1", ""), ("2", ""), ("4", "default")),
    "sref": (("random", "a random style code"),),
    "repeat": (("2", ""), ("4", "Basic max"), ("10", "Standard max"), ("40", "Pro/Mega max")),
}
