"""Short real videos for video tasks: a few frames moving over the first frame.

An MP4 (H.264, or MPEG-4 Part 2 where the codec build has no H.264) when PyAV is
installed (the ``video`` extra), otherwise an animated GIF, which Pillow writes on its own
and every client can save and show. Both are small: the point is a real file of the right
kind at the task's video URL, not a good film.
"""

from __future__ import annotations

import io
import math
from fractions import Fraction

from PIL import Image, ImageOps

FRAMES = 12
FPS = 8
LONG_SIDE = 192  # px; even sides, as 4:2:0 video needs


def _has_av() -> bool:
    try:
        import av  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


#: which container this emulator serves: "mp4" or "gif" (fixed for the process)
FORMAT = "mp4" if _has_av() else "gif"
MEDIA_TYPES = {"mp4": "video/mp4", "gif": "image/gif"}


def _even(n: int) -> int:
    return max(2, n - n % 2)


def frames(first: Image.Image, variant: int, motion: str) -> list[Image.Image]:
    """FRAMES pictures: a slow push-in on `first`, drifting one way per `variant` (each video
    of a batch moves differently); "high" motion moves three times as far."""
    img = first.convert("RGB")
    scale = LONG_SIDE / max(img.size)
    size = (_even(round(img.width * scale)), _even(round(img.height * scale)))
    base = img.resize(size, Image.Resampling.BILINEAR)
    reach = 0.3 if motion == "high" else 0.1
    angle = (variant % 8) * math.pi / 4
    out = []
    for i in range(FRAMES):
        t = i / (FRAMES - 1)
        zoom = 1 + reach * t
        w, h = size[0] / zoom, size[1] / zoom
        cx = size[0] / 2 + math.cos(angle) * (size[0] - w) / 2 * t
        cy = size[1] / 2 + math.sin(angle) * (size[1] - h) / 2 * t
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        out.append(base.resize(size, Image.Resampling.BILINEAR, box=box))
    return out


def encode(pictures: list[Image.Image]) -> bytes:
    """The frames as a file in FORMAT."""
    if FORMAT == "mp4":
        return _mp4(pictures)
    buf = io.BytesIO()
    quantized = [ImageOps.posterize(p, 5).convert("P", palette=Image.Palette.ADAPTIVE) for p in pictures]
    quantized[0].save(buf, "GIF", save_all=True, append_images=quantized[1:], duration=1000 // FPS, loop=0)
    return buf.getvalue()


def _mp4(pictures: list[Image.Image]) -> bytes:
    import av  # type: ignore[import-not-found,unused-ignore]

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = None
        for codec in ("libx264", "h264", "mpeg4"):
            try:
                stream = container.add_stream(codec, rate=FPS)
                break
            except Exception:  # a PyAV build without that encoder
                continue
        if stream is None:
            raise RuntimeError("no video encoder in this PyAV build")
        stream.width, stream.height = pictures[0].size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, FPS)
        for picture in pictures:
            for packet in stream.encode(av.VideoFrame.from_image(picture)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()
