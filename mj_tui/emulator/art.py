"""Deterministic Pillow artwork standing in for Midjourney renders.

Everything is a pure function of its inputs (prompt text, seeds, parent pixels),
so a test can predict images and the demo looks the same on every run. A grid's
four quadrants differ in hue and in shape so that U1..U4 are told apart at a
glance; U crops are nearest-neighbour 2x enlargements so a test can compare the
pixels of U2 with the grid's top-right quarter exactly.
"""

from __future__ import annotations

import base64
import binascii
import colorsys
import functools
import hashlib
import io
import math
import random
import re
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter, ImageOps

RGB = tuple[int, int, int]
SHAPES = ("circle", "square", "triangle", "diamond", "ring", "stripes")

_AR = re.compile(r"--(?:ar|aspect)\s+(\d+)\s*:\s*(\d+)")
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w=.+-]+)*;base64,", re.I)


def rng_for(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@functools.lru_cache(maxsize=4096)  # seeded history repeats prompts a lot
def family_of(text: str) -> float:
    """Base hue (0..1) of a prompt's palette family."""
    digest = hashlib.sha256(f"family\x1f{text.strip().lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return round(r * 255), round(g * 255), round(b * 255)


def hue_of(rgb: Sequence[int]) -> float:
    return colorsys.rgb_to_hsv(*(c / 255 for c in rgb[:3]))[0]


def parse_aspect(prompt: str) -> tuple[int, int]:
    m = _AR.search(prompt or "")
    if not m or int(m[1]) == 0 or int(m[2]) == 0:
        return 1, 1
    return int(m[1]), int(m[2])


def grid_dims(aspect: tuple[int, int], long_side: int) -> tuple[int, int]:
    """Grid size for an aspect ratio; both sides even so quadrants are exact halves."""
    w, h = aspect
    ratio = max(0.25, min(4.0, w / h))  # MJ allows extreme ratios; keep images sane
    width: float
    height: float
    if ratio >= 1:
        width, height = long_side, long_side / ratio
    else:
        width, height = long_side * ratio, long_side
    return max(2, int(width) // 2 * 2), max(2, int(height) // 2 * 2)


# ---------------------------------------------------------------- drawing


def _gradient(size: tuple[int, int], dark: RGB, light: RGB, angle: int) -> Image.Image:
    ramp = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)
    ramp = ramp.resize(size, Image.Resampling.BILINEAR)
    return ImageOps.colorize(ramp, dark, light)


def _shape(draw: ImageDraw.ImageDraw, kind: str, box: tuple[float, float, float, float], fill: RGB) -> None:
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if kind == "circle":
        draw.ellipse(box, fill=fill)
    elif kind == "square":
        draw.rectangle(box, fill=fill)
    elif kind == "triangle":
        draw.polygon([(cx, y0), (x1, y1), (x0, y1)], fill=fill)
    elif kind == "diamond":
        draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=fill)
    elif kind == "ring":
        width = max(2, int((x1 - x0) / 7))
        draw.ellipse(box, outline=fill, width=width)
    else:  # stripes
        step = max(4, int((x1 - x0) / 6))
        for i, x in enumerate(range(int(x0), int(x1), step)):
            if i % 2 == 0:
                draw.rectangle((x, y0, x + step - 1, y1), fill=fill)


def panel(
    size: tuple[int, int], hue: float, shape: str, rng: random.Random, colours: Sequence[RGB] = ()
) -> Image.Image:
    """One picture: a gradient background, a main shape and a few accents."""
    w, h = size
    if colours:
        dark, light = colours[0], colours[-1]
    else:
        dark, light = hsv(hue, 0.75, 0.25), hsv(hue + 0.06, 0.45, 0.95)
    img = _gradient(size, dark, light, rng.choice((0, 90, 180, 270)))
    draw = ImageDraw.Draw(img)
    side = min(w, h) * rng.uniform(0.42, 0.62)
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
    main = hsv(hue + 0.5, 0.8, 0.9)  # complementary, so the shape pops
    _shape(draw, shape, (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), main)
    for _ in range(rng.randint(2, 5)):
        r = min(w, h) * rng.uniform(0.03, 0.09)
        x, y = w * rng.random(), h * rng.random()
        draw.ellipse((x - r, y - r, x + r, y + r), fill=hsv(hue + rng.uniform(0.3, 0.7), 0.6, 1.0))
    return img


def _assemble(size: tuple[int, int], panels: Sequence[Image.Image]) -> Image.Image:
    w, h = size
    qw, qh = w // 2, h // 2
    out = Image.new("RGB", (qw * 2, qh * 2))
    for i, p in enumerate(panels):
        out.paste(p.resize((qw, qh)) if p.size != (qw, qh) else p, ((i % 2) * qw, (i // 2) * qh))
    return out


def grid(size: tuple[int, int], family: float, seed: str, spread: float = 0.25) -> Image.Image:
    """A 2x2 grid: quadrant i has hue family + i*spread and its own shape.

    Imagine grids use spread 1/4 (four clearly different hues); variations use a
    small spread so the new grid stays in the parent's palette family.
    """
    rng = rng_for("grid", seed)
    qw, qh = size[0] // 2, size[1] // 2
    first = rng.randrange(len(SHAPES))
    panels = []
    for i in range(4):
        hue = family + i * spread + rng.uniform(-0.03, 0.03)
        panels.append(panel((qw, qh), hue, SHAPES[(first + i) % len(SHAPES)], rng))
    return _assemble(size, panels)


def quadrant(img: Image.Image, n: int) -> Image.Image:
    """U{n}: exactly quadrant n (1 TL, 2 TR, 3 BL, 4 BR), enlarged 2x by pixel doubling."""
    qw, qh = img.width // 2, img.height // 2
    x, y = ((n - 1) % 2) * qw, ((n - 1) // 2) * qh
    return img.crop((x, y, x + qw, y + qh)).resize((qw * 2, qh * 2), Image.Resampling.NEAREST)


def upscale(img: Image.Image, creative: bool) -> Image.Image:
    out = img.resize((img.width * 2, img.height * 2), Image.Resampling.LANCZOS)
    if creative:  # "may add detail": a visible but deterministic texture
        out = out.filter(ImageFilter.DETAIL).filter(ImageFilter.EDGE_ENHANCE)
    return out


def average_colour(img: Image.Image) -> RGB:
    # the raw bytes of a 1x1 RGB image are its one pixel, as ints (getpixel's return type
    # covers every image mode)
    r, g, b = img.convert("RGB").resize((1, 1), Image.Resampling.BOX).tobytes()
    return r, g, b


def zoom_grid(img: Image.Image, size: tuple[int, int], scale: float, seed: str) -> Image.Image:
    """Zoom out: the parent shrunk to `scale` in the centre of four new canvases."""
    rng = rng_for("zoom", seed)
    base = hue_of(average_colour(img))
    qw, qh = size[0] // 2, size[1] // 2
    inner = img.resize((max(1, int(qw * scale)), max(1, int(qh * scale))), Image.Resampling.LANCZOS)
    panels = []
    for i in range(4):
        p = panel((qw, qh), base + i * 0.08, SHAPES[(i + 1) % len(SHAPES)], rng)
        p.paste(inner, ((qw - inner.width) // 2, (qh - inner.height) // 2))
        panels.append(p)
    return _assemble(size, panels)


_PAN_SHIFT = {"left": (1, 0), "right": (-1, 0), "up": (0, 1), "down": (0, -1)}


def pan_grid(img: Image.Image, size: tuple[int, int], direction: str, seed: str) -> Image.Image:
    """Pan: the parent slides away from `direction`, revealing new area on that side."""
    rng = rng_for("pan", seed)
    base = hue_of(average_colour(img))
    qw, qh = size[0] // 2, size[1] // 2
    moved = img.resize((qw, qh), Image.Resampling.LANCZOS)
    dx, dy = _PAN_SHIFT[direction]
    panels = []
    for i in range(4):
        p = panel((qw, qh), base + i * 0.08, SHAPES[(i + 2) % len(SHAPES)], rng)
        p.paste(moved, (dx * qw // 3, dy * qh // 3))
        panels.append(p)
    return _assemble(size, panels)


def inpaint_grid(img: Image.Image, mask: Image.Image, size: tuple[int, int], seed: str) -> Image.Image:
    """Vary (Region): white mask pixels are repainted, black ones are kept."""
    rng = rng_for("inpaint", seed)
    base = hue_of(average_colour(img))
    qw, qh = size[0] // 2, size[1] // 2
    keep = img.resize((qw, qh), Image.Resampling.LANCZOS)
    region = mask.convert("L").resize((qw, qh), Image.Resampling.NEAREST).point(lambda v: 255 if v > 127 else 0)
    panels = []
    for i in range(4):
        fresh = panel((qw, qh), base + 0.5 + i * 0.12, SHAPES[i % len(SHAPES)], rng)
        panels.append(Image.composite(fresh, keep, region))
    return _assemble(size, panels)


def blend_grid(colours: Sequence[RGB], size: tuple[int, int], seed: str) -> Image.Image:
    """Blend: the input images' average colours drive the four panels."""
    rng = rng_for("blend", seed)
    qw, qh = size[0] // 2, size[1] // 2
    panels = []
    for i in range(4):
        a, b = colours[i % len(colours)], colours[(i + 1) % len(colours)]
        panels.append(panel((qw, qh), hue_of(a) + i * 0.05, SHAPES[(i + 3) % len(SHAPES)], rng, (a, b)))
    return _assemble(size, panels)


def to_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=3)  # fast over high ratio: these are served locally
    return buf.getvalue()


def from_png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


# ---------------------------------------------------------------- inputs


def decode_image(value: object) -> bytes:
    """Bytes of an image given as a data URL or bare base64; ValueError if not an image."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("empty image")
    text = _DATA_URL.sub("", value.strip(), count=1)
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.verify()
    except Exception as exc:  # Pillow raises many types for garbage input
        raise ValueError("not an image") from exc
    return raw


def image_colour(raw: bytes) -> RGB:
    return average_colour(from_png(raw))


# ---------------------------------------------------------------- text


_SUBJECTS = (
    "a lighthouse",
    "a red fox",
    "an old tram",
    "a koi pond",
    "a paper crane",
    "a desert city",
    "a glass greenhouse",
    "a sleeping cat",
    "a mountain shrine",
    "a vintage robot",
    "a lantern market",
    "a whale in the clouds",
)
_STYLES = (
    "watercolor",
    "isometric illustration",
    "35mm film photo",
    "ukiyo-e woodblock print",
    "oil painting",
    "low poly render",
    "pastel gouache",
    "cinematic still",
    "linocut print",
)
_MOODS = (
    "misty morning light",
    "golden hour",
    "neon night",
    "soft overcast",
    "dramatic chiaroscuro",
    "dreamy haze",
    "crisp winter air",
)
_COLOURS = {
    "red": (200, 40, 40),
    "orange": (230, 130, 30),
    "yellow": (230, 210, 60),
    "green": (50, 160, 70),
    "teal": (30, 150, 150),
    "blue": (40, 80, 200),
    "purple": (130, 60, 170),
    "pink": (230, 120, 170),
    "brown": (120, 80, 40),
    "grey": (128, 128, 128),
    "black": (20, 20, 20),
    "white": (235, 235, 235),
}


def colour_name(rgb: RGB) -> str:
    return min(_COLOURS, key=lambda n: sum((a - b) ** 2 for a, b in zip(_COLOURS[n], rgb, strict=True)))


def describe_prompts(raw: bytes, attempt: int = 0) -> list[str]:
    """Four /describe suggestions, deterministic from the image bytes (and retry count)."""
    img = from_png(raw)
    colour = colour_name(average_colour(img))
    g = math.gcd(img.width, img.height) or 1
    ar = f"{img.width // g}:{img.height // g}"
    if max(img.width // g, img.height // g) > 32:  # MJ reports a simplified ratio
        ar = "1:1" if abs(img.width - img.height) < 0.05 * img.width else ("3:2" if img.width > img.height else "2:3")
    rng = rng_for("describe", hashlib.sha256(raw).hexdigest(), attempt)
    return [
        f"{rng.choice(_SUBJECTS)}, {rng.choice(_STYLES)}, {colour} tones, {rng.choice(_MOODS)} --ar {ar}"
        for _ in range(4)
    ]


def shorten(prompt: str) -> tuple[str, list[str]]:
    """/shorten: the Markdown report and its five shortened prompts."""
    body = _AR.sub("", prompt).split(" --")[0]
    words = [w for w in re.findall(r"[\w'-]+", body) if len(w) > 2]
    if not words:
        words = body.split() or ["image"]
    rng = rng_for("shorten", prompt)
    ranked = sorted(dict.fromkeys(words), key=lambda w: (-len(w), rng.random()))
    important = ranked[: max(1, min(6, len(ranked)))]
    shortened = [", ".join(ranked[: max(1, len(ranked) - k)]) for k in range(5)]
    report = (
        "## Important tokens\n"
        + " ".join(f"**{w}**" if i < 3 else w for i, w in enumerate(important))
        + "\n\n## Shortened prompts\n\n"
        + "\n\n".join(f"{e} {p}" for e, p in zip(("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"), shortened, strict=False))
    )
    return report, shortened
