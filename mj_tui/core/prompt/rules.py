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
    "niji 4",
    "niji 5",
    "niji 6",
)
# What `--niji` with no number means. niji 7 exists per resellers only [R], so stay on 6.
DEFAULT_NIJI = "6"
LEGACY_VERSIONS = frozenset({"1", "2", "3", "4", "niji 4"})


@dataclass(frozen=True)
class ParamSpec:
    name: str  # canonical
    aliases: tuple[str, ...] = ()
    # flag | int | number | aspect | text | urls | word | version | niji | codes | any
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
    ParamSpec("version", ("v",), "version", help="model version, e.g. 7 or 6.1", example="7"),
    ParamSpec("niji", (), "niji", help="anime model: 6 or 5", example="6"),
    ParamSpec("stylize", ("s",), "int", 0, 1000, help="0–1000, default 100", example="250"),
    ParamSpec("chaos", ("c",), "int", 0, 100, help="0–100, default 0", example="25"),
    ParamSpec("quality", ("q",), "number", help="GPU effort, default 1", example="1"),
    ParamSpec("weird", ("w",), "int", 0, 3000, help="0–3000, default 0", example="250"),
    ParamSpec("no", (), "text", help="what to leave out: --no a, b", example="text, frame"),
    ParamSpec("style", (), "word", help="look: raw; niji 5 has cute, expressive, original, scenic", example="raw"),
    ParamSpec("raw", (), "flag", help="same as --style raw, V7"),
    ParamSpec("seed", (), "int", 0, 4294967295, help="0–4294967295", example="1234"),
    ParamSpec("stop", (), "int", 10, 100, help="finish early at 10–100 %, default 100", example="80"),
    ParamSpec("tile", (), "flag", help="seamless repeating pattern"),
    # 2–40 is the Pro/Mega cap; lower plans allow less, and we do not know the plan: warn only
    ParamSpec("repeat", ("r",), "int", 2, 40, False, help="2–40 runs, Fast/Turbo only", example="4"),
    ParamSpec("iw", (), "number", 0, 3, help="image prompt weight, default 1", example="1"),
    ParamSpec("sref", (), "text", help="style reference: image URLs, codes or random", example="random"),
    ParamSpec("sw", (), "int", 0, 1000, help="style weight 0–1000, default 100", example="100"),
    # sources disagree on the range (1–4 in V6 docs, 1–6 per a reseller): accept 1–6 and only warn
    ParamSpec("sv", (), "int", 1, 6, False, help="style reference version, default 4", example="4"),
    ParamSpec("cref", (), "urls", help="character reference image URLs", example="https://…/face.png"),
    ParamSpec("cw", (), "int", 0, 100, help="character weight 0–100, default 100", example="100"),
    ParamSpec("oref", (), "urls", help="omni reference image URL", example="https://…/object.png"),
    ParamSpec("ow", (), "int", 1, 1000, help="omni weight 1–1000, default 100", example="100"),
    ParamSpec("personalize", ("p",), "codes", help="personalization, optional profile codes"),
    ParamSpec("draft", (), "flag", help="draft mode: faster, half the cost"),
    ParamSpec("exp", (), "int", 0, 100, help="experimental aesthetics 0–100, default 0", example="10"),
    ParamSpec("fast", (), "flag", help="run this job in Fast mode"),
    ParamSpec("relax", (), "flag", help="run this job in Relax mode"),
    ParamSpec("turbo", (), "flag", help="run this job in Turbo mode"),
    ParamSpec("video", (), "flag", help="legacy: timelapse video of the grid", suggest=False),
    ParamSpec("motion", (), "word", help="video motion: low or high", example="low", suggest=False),
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
# from the early-models page.
# Parameters not listed work on every version: aspect chaos no quality seed stop stylize style
# version niji fast relax. `style` values have their own table below.
MATRIX = _table(
    """
#             v1 v2 v3 v4 v5 5.1 5.2 v6 6.1 v7 n4 n5 n6
repeat        ?  ?  ?  ?  +  +   +   +  +   +  ?  +  +
raw           ?  ?  ?  ?  ?  ?   ?   ?  ?   +  ?  ?  ?
tile          +  +  +  -  +  +   +   +  +   +  ?  ?  ?
weird         -  -  -  -  +  +   +   +  +   +  -  +  +
iw            ?  ?  +  -  +  +   +   +  +   +  ?  +  +
sref          -  -  -  -  -  -   -   +  +   +  -  -  +
sw            -  -  -  -  -  -   -   +  +   +  -  -  +
sv            -  -  -  -  -  -   -   +  +   +  -  -  +
cref          -  -  -  -  -  -   -   +  +   -  -  -  +
cw            -  -  -  -  -  -   -   +  +   -  -  -  +
oref          -  -  -  -  -  -   -   -  -   +  -  -  -
ow            -  -  -  -  -  -   -   -  -   +  -  -  -
personalize   -  -  -  -  -  -   -   +  +   +  -  -  +
draft         -  -  -  -  -  -   -   -  -   +  -  -  -
exp           -  -  -  -  -  -   -   -  -   +  -  -  -
turbo         ?  ?  ?  ?  +  +   +   +  +   +  ?  +  +
video         +  +  +  ?  +  +   +   +  ?   ?  ?  +  +
motion        ?  ?  ?  ?  ?  ?   ?   ?  ?   ?  ?  ?  ?
zoom          ?  ?  ?  ?  ?  ?   ?   ?  ?   ?  ?  ?  ?
"""
)

# `--style <value>` by version. Style Tuner codes (`--style abc123`, `raw-abc123`, `random-32`)
# are V5.2 only [O]; any other value is an unknown-style warning.
STYLE_MATRIX = _table(
    """
#             v1 v2 v3 v4 v5 5.1 5.2 v6 6.1 v7 n4 n5 n6
raw           -  -  -  -  -  +   +   +  +   +  -  -  +
cute          -  -  -  -  -  -   -   -  -   -  -  +  ?
expressive    -  -  -  -  -  -   -   -  -   -  -  +  ?
original      -  -  -  -  -  -   -   -  -   -  -  +  ?
scenic        -  -  -  -  -  -   -   -  -   -  -  +  ?
4a            -  -  -  +  -  -   -   -  -   -  -  -  -
4b            -  -  -  +  -  -   -   -  -   -  -  -  -
4c            -  -  -  +  -  -   -   -  -   -  -  -  -
"""
)
STYLE_TUNER_VERSIONS = frozenset({"5.2"})

# What a "?" cell means for a few parameters, instead of the generic "unverified" message.
UNVERIFIED_NOTES: dict[str, tuple[str, str]] = {
    "video": ("legacy-param", "--{w} is a legacy Discord feature; {ver} may ignore it"),
    "motion": ("version-unsupported", "--{w} applies to video (Animate) jobs, not image prompts"),
    "zoom": ("version-unsupported", "--{w} only works inside the Custom Zoom dialog"),
}
# Extra advice appended to a "not supported" error.
UNSUPPORTED_HINTS: dict[tuple[str, str], str] = {
    ("cref", "7"): "; V7 replaced it with --oref",
    ("cw", "7"): "; V7 uses --oref with --ow",
}

# --quality values by version. V5.x/V6 [O]; 6.1's "2" [U]; V7 1/2/4 [R]. Off-set values are
# rounded by Midjourney, so the linter only warns.
QUALITY_SETS: dict[str, tuple[float, ...]] = {
    "4": (0.25, 0.5, 1),
    "5": (0.25, 0.5, 1),
    "5.1": (0.25, 0.5, 1),
    "5.2": (0.25, 0.5, 1),
    "6": (0.25, 0.5, 1),
    "6.1": (0.25, 0.5, 1, 2),
    "7": (1, 2, 4),
    "niji 5": (0.25, 0.5, 1),
    "niji 6": (0.25, 0.5, 1),
}

# Ranges that depend on the version; the spec's lo/hi apply elsewhere.
# --iw: docs copy table "V6 0–3, V5 0–2, niji 6 0–3, niji 5 0–2" [O]; V6.1/V7 0–3 [O]/[R];
# V3 legacy −10000..10000. --stylize on V3 was 625–60000.
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
        "niji 6": (0, 3),
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
    ("7", "current default"),
    ("6.1", ""),
    ("6", ""),
    ("5.2", ""),
    ("5.1", ""),
    ("5", ""),
)
NIJI_VALUES = (("6", "current niji"), ("5", "styles cute, expressive, original, scenic"))
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
    "exp": (("5", ""), ("10", ""), ("25", ""), ("50", ""), ("100", "max")),
    "sw": (("0", ""), ("50", ""), ("100", "default"), ("250", ""), ("500", ""), ("1000", "max")),
    "cw": (("0", "face only"), ("50", ""), ("100", "default: face, hair, clothes")),
    "ow": (("25", ""), ("100", "default"), ("250", ""), ("500", ""), ("1000", "max")),
    "sv": tuple((str(v), "default" if v == 4 else "") for v in range(1, 7)),
    "motion": (("low", "default"), ("high", "")),
    "sref": (("random", "a random style code"),),
    "repeat": (("2", ""), ("4", "Basic max"), ("10", "Standard max"), ("40", "Pro/Mega max")),
}
