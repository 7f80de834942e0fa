"""A video task's file as saved for the person: its kind read from its bytes, its story
written in where the format has room for text without touching a frame.

- MP4: a QuickTime comment (``moov/udta/©cmt``: the prompt, then the parameters line)
  when ``moov`` is the file's last box. Growing it there moves no sample, so no chunk
  offset changes. A "fast start" file (``moov`` before the frames) is kept byte for byte:
  writing into it would mean rewriting every chunk offset, so its story goes to the
  sidecar file only.
- GIF: a Comment Extension after the global colour table, the same text.
- WebP: the EXIF and XMP chunks every saved WebP picture gets.
"""

from __future__ import annotations

import struct

from .containers import ContainerError
from .metadata import Story, embed, parameters_text

#: the largest video a save downloads (Midjourney's five-second clips are a few MB)
VIDEO_MAX_BYTES = 200 * 1024 * 1024
#: text a comment may carry (a QuickTime text atom counts its length in 16 bits)
COMMENT_MAX = 60_000

MEDIA_TYPES = {"mp4": "video/mp4", "gif": "image/gif", "webp": "image/webp"}


def video_kind(data: bytes) -> str | None:
    """ "mp4", "gif" or "webp" from the file's first bytes; None for anything else (an
    HTML error page, a PNG, garbage)."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "mp4"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def comment_text(story: Story) -> str:
    """The prompt and its parameters line, as the picture files' ``parameters`` text."""
    return parameters_text(story)[:COMMENT_MAX]


def embed_video(data: bytes, kind: str, story: Story) -> tuple[bytes, bool]:
    """`data` with the story written in, and whether it could be (False: unchanged)."""
    if kind == "gif":
        return _gif_comment(data, comment_text(story))
    if kind == "mp4":
        return _mp4_comment(data, comment_text(story))
    if kind == "webp":
        try:
            return embed(data, "webp", story), True
        except ContainerError:
            return data, False
    return data, False


def _gif_comment(data: bytes, text: str) -> tuple[bytes, bool]:
    if len(data) < 13:
        return data, False
    flags = data[10]
    start = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    if start > len(data):
        return data, False
    raw = text.encode("utf-8")
    blocks = b"".join(bytes([len(raw[i : i + 255])]) + raw[i : i + 255] for i in range(0, len(raw), 255))
    comment = b"\x21\xfe" + blocks + b"\x00"
    head = data[:start].replace(b"GIF87a", b"GIF89a", 1)  # comments came with 89a
    return head + comment + data[start:], True


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]] | None:
    """(type, offset, size) of each box in data[start:end]; None when they do not tile it."""
    found = []
    at = start
    while at < end:
        if at + 8 > end:
            return None
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:  # a 64-bit size follows
            if at + 16 > end:
                return None
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        elif size == 0:  # to the end
            size = end - at
        if size < 8 or at + size > end:
            return None
        found.append((kind, at, size))
        at += size
    return found


def _mp4_comment(data: bytes, text: str) -> tuple[bytes, bool]:
    top = _boxes(data, 0, len(data))
    if not top or top[-1][0] != b"moov":
        return data, False
    _, moov_at, moov_size = top[-1]
    if struct.unpack(">I", data[moov_at : moov_at + 4])[0] != moov_size:
        return data, False  # a 64-bit or open-ended moov: left alone
    raw = text.encode("utf-8")
    # a QuickTime text entry: its length, a language code (0x55c4: undetermined), the text
    entry = struct.pack(">HH", len(raw), 0x55C4) + raw
    atom = struct.pack(">I4s", 8 + len(entry), "©cmt".encode("latin-1")) + entry
    udta = struct.pack(">I4s", 8 + len(atom), b"udta") + atom
    new_size = moov_size + len(udta)
    if new_size >= 2**32:
        return data, False
    moov = struct.pack(">I", new_size) + data[moov_at + 4 : moov_at + moov_size] + udta
    return data[:moov_at] + moov, True


def read_comment(data: bytes) -> str | None:
    """The comment embed_video wrote (for the tests and for `read back` tools); None when
    the file has none."""
    kind = video_kind(data)
    if kind == "gif":
        at = data.find(b"\x21\xfe")
        if at < 0:
            return None
        out, at = b"", at + 2
        while at < len(data) and data[at]:
            out += data[at + 1 : at + 1 + data[at]]
            at += 1 + data[at]
        return out.decode("utf-8", "replace")
    if kind == "mp4":
        at = data.rfind("©cmt".encode("latin-1"))
        if at < 0:
            return None
        (length,) = struct.unpack(">H", data[at + 4 : at + 6])
        return data[at + 8 : at + 8 + length].decode("utf-8", "replace")
    return None
