"""A saved video's story: a GIF comment, an MP4 udta/©cmt where moov is last, nothing
(and a sidecar) for a fast-start MP4; the frames untouched either way."""

from __future__ import annotations

import io
import struct

from PIL import Image

from mj_tui.core.images.metadata import Story
from mj_tui.core.images.videos import embed_video, read_comment, video_kind

STORY = Story(task_id="1785123456789123", prompt="a red fox runs --motion high", seed="42")


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def test_gif_gets_a_comment_pillow_reads_and_keeps_its_frames():
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    data, embedded = embed_video(buf.getvalue(), "gif", STORY)
    assert embedded and video_kind(data) == "gif"
    with Image.open(io.BytesIO(data)) as img:
        assert img.n_frames == 3
        assert b"a red fox runs --motion high" in img.info["comment"]
    assert "Seed: 42" in (read_comment(data) or "")


def test_mp4_with_moov_last_gets_a_comment_and_the_frames_do_not_move():
    mdat = box(b"mdat", b"\x00" * 64)
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100))
    original = box(b"ftyp", b"isom\x00\x00\x02\x00") + mdat + moov
    data, embedded = embed_video(original, "mp4", STORY)
    assert embedded and data.startswith(original[: len(original) - len(moov)])  # everything before moov as it was
    (size,) = struct.unpack(">I", data[len(original) - len(moov) : len(original) - len(moov) + 4])
    assert size == len(data) - (len(original) - len(moov))  # moov grew by exactly the udta
    assert read_comment(data) == "a red fox runs --motion high\nSeed: 42, Model: Midjourney, Task id: 1785123456789123"


def test_a_fast_start_mp4_is_left_byte_for_byte():
    original = box(b"ftyp", b"isom") + box(b"moov", box(b"mvhd", b"\x00" * 20)) + box(b"mdat", b"\x01" * 32)
    assert embed_video(original, "mp4", STORY) == (original, False)


def test_what_is_not_a_video_is_told_apart():
    assert video_kind(b"<html>404</html>") is None
    assert video_kind(b"\x89PNG\r\n\x1a\n....") is None
    assert video_kind(b"RIFF\x00\x00\x00\x00WEBPVP8X") == "webp"
