"""Local image files -> the data URIs the APIs take (reference images, blend, describe)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .errors import InvalidRequest

MAX_FILE_BYTES = 30 * 1024 * 1024
# resellers choke on big base64 bodies; Midjourney does not need more than this
MAX_SIDE = 1536


def image_data_uri(path: str | Path, *, max_side: int = MAX_SIDE) -> str:
    """Read, check and (if large) shrink an image file, returning a data URI."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InvalidRequest(f"No image file at {path}.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InvalidRequest(
            f"{path.name} is {size / 1e6:.0f} MB; images up to {MAX_FILE_BYTES / 1e6:.0f} MB are accepted."
        )
    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            fmt = (img.format or "PNG").upper()
            if max(img.size) <= max_side and fmt in ("PNG", "JPEG", "WEBP"):
                mime = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[fmt]
                return f"data:{mime};base64,{base64.b64encode(data).decode()}"
            img.thumbnail((max_side, max_side))
            out = io.BytesIO()
            if img.mode in ("RGBA", "LA", "P"):
                img.convert("RGBA").save(out, "PNG", optimize=True)
                mime = "image/png"
            else:
                img.convert("RGB").save(out, "JPEG", quality=90)
                mime = "image/jpeg"
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidRequest(f"{path.name} is not a readable image ({type(exc).__name__}).") from None
    return f"data:{mime};base64,{base64.b64encode(out.getvalue()).decode()}"


def png_data_uri(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
