"""Metadata put into PNG, JPEG and WebP files without touching their pixels.

A saved original keeps its encoded image data byte for byte: these functions walk the
file's container (PNG chunks, JPEG segments, RIFF chunks), drop the metadata blocks they
replace, and insert new ones where each format's readers look for them. Nothing here
decodes an image or talks to Pillow; a structure that does not add up raises
:class:`ContainerError`, and the caller falls back to encoding the picture anew.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# what a JPEG APP1 segment carries, told apart by the name it starts with
EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
#: a JPEG segment's length field counts itself: 65535 - 2 bytes of payload at most
JPEG_SEGMENT_MAX = 65533

_PNG_TEXT = (b"tEXt", b"zTXt", b"iTXt")
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field
_SOS, _EOI, _APP0, _APP1 = 0xDA, 0xD9, 0xE0, 0xE1
# the chunks that hold (or frame) a WebP's picture; EXIF and XMP belong after them
_WEBP_IMAGE = frozenset({b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"})
_VP8X_ALPHA, _VP8X_EXIF, _VP8X_XMP = 0x10, 0x08, 0x04


class ContainerError(ValueError):
    """The file's structure is not what its format says: it cannot be edited in place."""


def sniff(head: bytes) -> str | None:
    """ "png", "jpeg", "webp" or "gif" from a file's first 12 bytes; None for anything else."""
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


# -- PNG --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PngChunk:
    kind: bytes
    start: int  # offset of the length field
    end: int  # just past the CRC

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 8 : self.end - 4]


def png_chunks(data: bytes) -> Iterator[PngChunk]:
    """The chunks of a PNG, up to and including IEND (anything after it is not the image)."""
    if not data.startswith(PNG_SIGNATURE):
        raise ContainerError("not a PNG file")
    pos, size = len(PNG_SIGNATURE), len(data)
    first = True
    while True:
        if pos + 12 > size:
            raise ContainerError("the PNG ends before its IEND chunk")
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > size:
            raise ContainerError(f"the PNG chunk {kind!r} runs past the end of the file")
        if first and kind != b"IHDR":
            raise ContainerError("the PNG does not start with its IHDR chunk")
        first = False
        yield PngChunk(kind, pos, end)
        if kind == b"IEND":
            return
        pos = end


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_text_chunk(keyword: str, text: str, *, international: bool = False) -> bytes:
    """A text chunk: tEXt when `text` is Latin-1 and `international` is not asked for, else
    an uncompressed iTXt (UTF-8). `text` must already be free of NULs."""
    key = keyword.encode("latin-1")
    if not international:
        try:
            return png_chunk(b"tEXt", key + b"\x00" + text.encode("latin-1"))
        except UnicodeEncodeError:
            pass
    # keyword, NUL, compression flag and method (none), empty language tag and translation
    return png_chunk(b"iTXt", key + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def _text_keyword(kind: bytes, payload: bytes) -> bytes | None:
    return payload.split(b"\x00", 1)[0] if kind in _PNG_TEXT else None


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    chunk = next(png_chunks(data))
    width, height = struct.unpack_from(">II", data, chunk.start + 8)
    return int(width), int(height)


def png_exif(data: bytes) -> bytes | None:
    """The eXIf chunk's TIFF bytes (wherever it is in the file), or None."""
    for chunk in png_chunks(data):
        if chunk.kind == b"eXIf":
            return chunk.payload(data)
    return None


def png_with_text(data: bytes, chunks: Sequence[bytes], replaced: frozenset[str]) -> bytes:
    """`data` with text chunks whose keyword is in `replaced` dropped and `chunks` inserted
    just before the first IDAT. Text before the image data is what Pillow's ``info`` and
    most viewers read without decoding the picture; the IDAT chunks are kept byte for byte."""
    keywords = {k.encode("latin-1") for k in replaced}
    out: list[bytes] = [PNG_SIGNATURE]
    inserted = False
    for chunk in png_chunks(data):
        if chunk.kind in (b"IDAT", b"IEND") and not inserted:
            out.extend(chunks)
            inserted = True
        if _text_keyword(chunk.kind, chunk.payload(data)) in keywords:
            continue
        out.append(data[chunk.start : chunk.end])
    return b"".join(out)


# -- JPEG -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JpegSegment:
    marker: int
    start: int  # offset of the 0xFF just before its marker
    end: int

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 4 : self.end]


def jpeg_segments(data: bytes) -> tuple[list[JpegSegment], int]:
    """The marker segments before the image data, and the offset where the scan begins
    (SOS, or EOI for a file without one); everything from there on is kept as it is."""
    if not data.startswith(b"\xff\xd8"):
        raise ContainerError("not a JPEG file")
    pos, size = 2, len(data)
    segments: list[JpegSegment] = []
    while True:
        if pos >= size or data[pos] != 0xFF:
            raise ContainerError("the JPEG's markers are damaged")
        start = pos
        while pos < size and data[pos] == 0xFF:  # fill bytes may pad a marker
            pos += 1
        if pos >= size:
            raise ContainerError("the JPEG ends inside a marker")
        marker = data[pos]
        pos += 1
        if marker in (_SOS, _EOI):
            return segments, start
        if marker in _JPEG_STANDALONE:
            segments.append(JpegSegment(marker, pos - 2, pos))
            continue
        if pos + 2 > size:
            raise ContainerError("the JPEG ends inside a segment")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > size:
            raise ContainerError("a JPEG segment runs past the end of the file")
        # a segment starts at the 0xFF just before its marker: fill bytes are not kept
        segments.append(JpegSegment(marker, pos - 2, pos + length))
        pos += length


def jpeg_app1(payload: bytes) -> bytes:
    if len(payload) > JPEG_SEGMENT_MAX:
        raise ContainerError(f"an APP1 segment holds at most {JPEG_SEGMENT_MAX} bytes, not {len(payload)}")
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_exif(data: bytes) -> bytes | None:
    """The TIFF bytes of the JPEG's EXIF segment, or None."""
    segments, _ = jpeg_segments(data)
    for segment in segments:
        body = segment.payload(data)
        if segment.marker == _APP1 and body.startswith(EXIF_HEADER):
            return body[len(EXIF_HEADER) :]
    return None


def jpeg_with_app1(data: bytes, payloads: Sequence[bytes]) -> bytes:
    """`data` with its EXIF and XMP segments replaced by `payloads` (APP1 bodies, header
    included), put after the JFIF header where one comes first. The scan data is kept."""
    segments, scan = jpeg_segments(data)
    new = b"".join(jpeg_app1(p) for p in payloads)
    out: list[bytes] = [b"\xff\xd8"]
    inserted = False
    for segment in segments:
        if not inserted and segment.marker != _APP0:
            out.append(new)
            inserted = True
        body = segment.payload(data)
        if segment.marker == _APP1 and body.startswith((EXIF_HEADER, XMP_HEADER, XMP_EXTENSION_HEADER)):
            continue  # replaced (an extended XMP belonged to the packet being replaced)
        out.append(b"\xff" + bytes([segment.marker]) + data[segment.start + 2 : segment.end])
    if not inserted:
        out.append(new)
    out.append(data[scan:])
    return b"".join(out)


# -- WebP -------------------------------------------------------------------------------


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(fourcc, payload) for each chunk of a RIFF WebP file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ContainerError("not a WebP file")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if end > len(data) or riff_size < 4:
        raise ContainerError("the WebP file is shorter than its header says")
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos < end:
        if pos + 8 > end:
            raise ContainerError("the WebP file ends inside a chunk header")
        fourcc = data[pos : pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        body_end = pos + 8 + length
        if body_end > end:
            raise ContainerError(f"the WebP chunk {fourcc!r} runs past the end of the file")
        chunks.append((fourcc, data[pos + 8 : body_end]))
        pos = body_end + (length & 1)  # chunks are padded to an even length
    if not chunks:
        raise ContainerError("the WebP file holds no image")
    return chunks


def _webp_canvas(chunks: Sequence[tuple[bytes, bytes]]) -> tuple[int, int, int]:
    """(flags, width, height) of the VP8X header the file has or would need."""
    fourcc, body = chunks[0]
    if fourcc == b"VP8X" and len(body) >= 10:
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        return body[0], width, height
    if fourcc == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", body, 6)
        return 0, width & 0x3FFF, height & 0x3FFF
    if fourcc == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        (bits,) = struct.unpack_from("<I", body, 1)
        alpha = _VP8X_ALPHA if (bits >> 28) & 1 else 0
        return alpha, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise ContainerError("the WebP file starts with no image header this client knows")


def webp_exif(data: bytes) -> bytes | None:
    """The TIFF bytes of the WebP's EXIF chunk, or None."""
    for fourcc, body in webp_chunks(data):
        if fourcc == b"EXIF":
            # some writers keep JPEG's "Exif\0\0" in front; the format says TIFF bytes
            return body.removeprefix(EXIF_HEADER)
    return None


def webp_with_metadata(data: bytes, exif: bytes, xmp: bytes) -> bytes:
    """`data` in the extended (VP8X) layout with its EXIF and XMP chunks replaced; the
    image chunks are kept as they are. `exif` is TIFF bytes, `xmp` the packet."""
    chunks = webp_chunks(data)
    flags, width, height = _webp_canvas(chunks)
    if not (0 < width <= 1 << 24 and 0 < height <= 1 << 24):
        raise ContainerError("the WebP canvas size is out of range")
    flags |= _VP8X_EXIF | _VP8X_XMP
    header = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    kept = [(f, b) for f, b in chunks if f not in (b"VP8X", b"EXIF", b"XMP ")]
    # after the last chunk of the picture, before any unknown chunk, as the format orders them
    at = max((i + 1 for i, (f, _) in enumerate(kept) if f in _WEBP_IMAGE), default=len(kept))
    ordered = [(b"VP8X", header), *kept[:at], (b"EXIF", exif), (b"XMP ", xmp), *kept[at:]]
    body = b"".join(f + struct.pack("<I", len(b)) + b + (b"\x00" if len(b) & 1 else b"") for f, b in ordered)
    if len(body) + 4 > 0xFFFFFFFF:
        raise ContainerError("the WebP file would be too large")
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


# -- EXIF -------------------------------------------------------------------------------

# TIFF field types
ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 2, 3, 4, 5, 7
_EXIF_IFD_POINTER = 0x8769

#: one EXIF field: (tag, type, its values packed little-endian, how many values)
ExifField = tuple[int, int, bytes, int]


def exif_ascii(tag: int, text: bytes) -> ExifField:
    return (tag, ASCII, text + b"\x00", len(text) + 1)


def exif_undefined(tag: int, data: bytes) -> ExifField:
    return (tag, UNDEFINED, data, len(data))


def exif_short(tag: int, value: int) -> ExifField:
    return (tag, SHORT, struct.pack("<H", value), 1)


def exif_long(tag: int, value: int) -> ExifField:
    return (tag, LONG, struct.pack("<I", value), 1)


def exif_rational(tag: int, numerator: int, denominator: int) -> ExifField:
    return (tag, RATIONAL, struct.pack("<II", numerator, denominator), 1)


def _ifd(fields: Sequence[ExifField], at: int) -> bytes:
    """One IFD placed at offset `at`: its entries (sorted by tag), then the values that
    do not fit in an entry, each on an even offset."""
    fields = sorted(fields, key=lambda f: f[0])
    entries, data = [], b""
    data_at = at + 2 + 12 * len(fields) + 4
    for tag, kind, value, count in fields:
        if len(value) <= 4:
            entries.append(struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00"))
        else:
            entries.append(struct.pack("<HHII", tag, kind, count, data_at + len(data)))
            data += value + (b"\x00" if len(value) & 1 else b"")
    return struct.pack("<H", len(fields)) + b"".join(entries) + struct.pack("<I", 0) + data


def exif_block(ifd0: Sequence[ExifField], exif_ifd: Sequence[ExifField]) -> bytes:
    """Little-endian TIFF bytes holding IFD0 and, when given, the EXIF sub-IFD."""
    header = b"II*\x00" + struct.pack("<I", 8)
    if not exif_ifd:
        return header + _ifd(ifd0, 8)
    # IFD0 carries a pointer to the sub-IFD, which follows it: size IFD0 with a placeholder
    first_size = len(_ifd([*ifd0, exif_long(_EXIF_IFD_POINTER, 0)], 8))
    first = _ifd([*ifd0, exif_long(_EXIF_IFD_POINTER, 8 + first_size)], 8)
    return header + first + _ifd(exif_ifd, 8 + first_size)
