"""Plain helpers for the emulator tests (raw httpx; no mj_tui.core)."""

from __future__ import annotations

import base64
import io

import httpx
from PIL import Image

OMG = "/api/v1/ai/draw/mj"
SMALL = 256  # grid px for most tests: rendering stays cheap

# Midjourney's buttons under a single (upscaled) image, in its order: both dialects relay them
SINGLE_IMAGE_LABELS = [
    "Upscale (Subtle)",
    "Upscale (Creative)",
    "Vary (Subtle)",
    "Vary (Strong)",
    "Vary (Region)",
    "Zoom Out 2x",
    "Zoom Out 1.5x",
    "Custom Zoom",
    "⬅️",
    "➡️",
    "⬆️",
    "⬇️",
]


def client_for(url: str, key: str | None, **headers: str) -> httpx.Client:
    if key is not None:
        headers.setdefault("Authorization", f"Bearer {key}")
    return httpx.Client(base_url=url, headers=headers, timeout=20)


def png_bytes(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (48, 32)) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, colour)
    img.putpixel((0, 0), (colour[2], colour[0], colour[1]))  # not a flat image
    img.save(buf, "PNG")
    return buf.getvalue()


def data_url(raw: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def png_url(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (48, 32)) -> str:
    return data_url(png_bytes(colour, size))


def mask_url(size: tuple[int, int] = (64, 64)) -> str:
    """Vary (Region) mask: black background, white square = area to repaint."""
    img = Image.new("RGB", size, "black")
    img.paste((255, 255, 255), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return data_url(buf.getvalue())


def load_image(c: httpx.Client, url: str) -> Image.Image:
    r = c.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content))
    img.load()
    return img.convert("RGB")


# ------------------------------------------------------------------ dialect helpers


def omg(c: httpx.Client, verb: str, **fields: object) -> httpx.Response:
    return c.post(f"{OMG}/{verb}", json={"model": "midjourney", **fields})


def omg_ok(c: httpx.Client, verb: str, **fields: object) -> object:
    r = omg(c, verb, **fields)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["statusCode"] == 200 and body["message"] == "Success", body
    return body["data"]


def omg_task(c: httpx.Client, task_id: int) -> dict:
    return omg_ok(c, "query", taskId=str(task_id))


def omg_error(c: httpx.Client, verb: str, **fields: object) -> str:
    r = omg(c, verb, **fields)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["statusCode"] == 400 and body["data"] is None, body
    return body["message"]


def omg_press(c: httpx.Client, task: dict, label_or_emoji: str, **fields: object) -> object:
    cid = button(task["actions"], label_or_emoji)
    return omg_ok(c, "action", taskId=str(task["taskId"]), customId=cid, type=task["taskType"], **fields)


def button(buttons: list[dict], label_or_emoji: str) -> str:
    for b in buttons:
        if label_or_emoji in (b["label"], b["emoji"]) or b["customId"].startswith(label_or_emoji):
            return b["customId"]
    raise AssertionError(f"no button {label_or_emoji!r} in {[b['label'] or b['emoji'] for b in buttons]}")


def mj_submit(c: httpx.Client, verb: str, prefix: str = "", **fields: object) -> dict:
    r = c.post(f"{prefix}/mj/submit/{verb}", json=fields)
    assert r.status_code == 200, r.text
    return r.json()


def mj_fetch(c: httpx.Client, task_id: str) -> dict:
    r = c.get(f"/mj/task/{task_id}/fetch")
    assert r.status_code == 200, r.text
    return r.json()


def mj_imagine(c: httpx.Client, prompt: str = "a red fox in the snow", prefix: str = "") -> dict:
    res = mj_submit(c, "imagine", prefix, prompt=prompt)
    assert res["code"] == 1, res
    return mj_fetch(c, res["result"])


def mj_press(c: httpx.Client, task: dict, label_or_emoji: str) -> dict:
    return mj_submit(c, "action", taskId=task["id"], customId=button(task["buttons"], label_or_emoji))
