"""The story a saved picture carries: its prompt and the task that made it, in the file.

Every save writes the same fields (a :class:`Story`) where each format's readers look:

- PNG: an iTXt ``Description`` (the prompt), a ``parameters`` text chunk laid out as the
  Stable Diffusion tools write theirs (the prompt on the first line, then one line of
  ``Key: value, ...``), and an XMP packet (iTXt ``XML:com.adobe.xmp``).
- JPEG and WebP: EXIF (``ImageDescription`` is the prompt, ``UserComment`` the parameters
  text) and the same XMP packet; the EXIF a file already had (its orientation) is kept.
- The XMP packet holds ``dc:description`` (the prompt), ``dc:title``, the time it was made,
  IPTC's "made by a trained algorithm" source type, and every field of the story in the
  ``mjtui:`` namespace.

A prompt is server text: control characters are dropped and everything else is escaped as
XML character data, never pasted into markup, so no prompt can break the file or add to it.
:func:`read_metadata` reads the fields back (Pillow for the file, ``xml.etree`` for XMP).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from PIL import Image, UnidentifiedImageError

from ..errors import ImageError
from ..models import Task
from ..prompt import scan as scanning  # the package before its module (see prompt/__init__.py)
from ..text import exception_detail
from .containers import (
    EXIF_HEADER,
    JPEG_SEGMENT_MAX,
    XMP_HEADER,
    ContainerError,
    exif_ascii,
    exif_block,
    exif_long,
    exif_rational,
    exif_short,
    exif_undefined,
    jpeg_exif,
    jpeg_with_app1,
    png_size,
    png_text_chunk,
    png_with_text,
    webp_exif,
    webp_with_metadata,
)
from .pictures import FORMATS

NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
#: mj-tui's own XMP namespace: the task's fields that no standard schema has
NS_MJTUI = "urn:mj-tui:story:1/"
AI_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SIDECAR_SCHEMA = "mj-tui.story/1"

#: the PNG text chunks a save writes (an earlier one of the same name is replaced)
PNG_KEYWORDS = frozenset({"Description", "parameters", "Software", "XML:com.adobe.xmp"})
# Midjourney's prompt limit is a few thousand characters; this only bounds a hostile server
FIELD_MAX = 32_000
XMP_MAX = 4 * 1024 * 1024  # a packet larger than this is not ours: it is not parsed
TITLE_MAX = 100

# EXIF tags: IFD0
_TAG_IMAGE_DESCRIPTION, _TAG_ORIENTATION, _TAG_SOFTWARE = 0x010E, 0x0112, 0x0131
_TAG_X_RESOLUTION, _TAG_Y_RESOLUTION, _TAG_RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128
_TAG_YCBCR_POSITIONING, _TAG_EXIF_IFD = 0x0213, 0x8769
# the EXIF sub-IFD
_TAG_EXIF_VERSION, _TAG_DATE_ORIGINAL, _TAG_OFFSET_ORIGINAL = 0x9000, 0x9003, 0x9011
_TAG_COMPONENTS, _TAG_USER_COMMENT, _TAG_FLASHPIX_VERSION = 0x9101, 0x9286, 0xA000
_TAG_COLOR_SPACE, _TAG_PIXEL_X, _TAG_PIXEL_Y = 0xA001, 0xA002, 0xA003

# what no file should carry from a server: C0 controls but tab and newline, DEL, C1
# controls, and what XML 1.0 cannot hold at all (lone surrogates, U+FFFE, U+FFFF)
_UNFIT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SEED = re.compile(r"(?:^|\s)--seed\s+(\d{1,10})\b", re.IGNORECASE)
_DIGITS = re.compile(r"\d{1,20}")

# story field -> its property in the mjtui: namespace (the prompt is dc:description)
_MJTUI_PROPERTIES = {
    "final_prompt": "FinalPrompt",
    "parameters": "Parameters",
    "task_id": "TaskId",
    "parent_id": "ParentId",
    "action": "Action",
    "mode": "Mode",
    "provider": "Provider",
    "profile": "Profile",
    "seed": "Seed",
    "submit_time": "SubmitTime",
    "finish_time": "FinishTime",
    "quadrant": "Quadrant",
    "truncated": "Truncated",
    "starred": "Starred",
}
_FIELD_OF = {prop: field for field, prop in _MJTUI_PROPERTIES.items()}


def fit_text(value: object, limit: int = FIELD_MAX) -> str:
    """`value` as text a file can hold: unfit characters dropped, at most `limit` long."""
    text = _UNFIT.sub("", "" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Story:
    """What made a picture, as saved with it. Every field is text; empty means unknown."""

    task_id: str
    prompt: str = ""
    #: the prompt the provider ran (translated, flags added), when it differs from `prompt`
    final_prompt: str = ""
    #: the ``--`` part of the prompt that ran
    parameters: str = ""
    parent_id: str = ""
    action: str = ""
    mode: str = ""
    #: the dialect as a person knows it ("OhMyGPT", "midjourney-proxy")
    provider: str = ""
    profile: str = ""
    seed: str = ""
    #: ISO 8601, UTC
    submit_time: str = ""
    finish_time: str = ""
    #: "1".."4" for one cell of a grid
    quadrant: str = ""
    #: "true" when a field was cut to fit a format's limit (the sidecar has it whole)
    truncated: str = ""
    #: the person's own marks on the task (the local history's tags and star)
    tags: tuple[str, ...] = ()
    starred: bool = False

    def fields(self) -> dict[str, str]:
        """The known text fields, in a stable order: what read_metadata returns (the tags,
        one per line, and the starred flag as "true")."""
        found = {name: value for name, value in asdict(self).items() if value and isinstance(value, str)}
        if self.tags:
            found["tags"] = "\n".join(self.tags)
        if self.starred:
            found["starred"] = "true"
        return found

    @property
    def title(self) -> str:
        """The prompt's subject: no image links, no parameters, cut on a word."""
        text = self.prompt
        parts = scanning.scan(text)
        body = " ".join(text[parts.body_start : parts.body_end].split())
        if len(body) <= TITLE_MAX:
            return body
        cut = body[: TITLE_MAX - 1]
        return (cut.rsplit(" ", 1)[0] if " " in cut[TITLE_MAX // 2 :] else cut) + "…"


def _iso(when: datetime | None) -> str:
    if when is None:
        return ""
    if when.tzinfo is None:  # the models keep aware times; a naive one is taken as UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed(task: Task, parameters: str) -> str:
    """The seed where the task says it without a request: the server's own field, else a
    ``--seed`` in the prompt."""
    raw = task.raw if isinstance(task.raw, dict) else {}
    properties = raw.get("properties")
    for value in (raw.get("seed"), properties.get("seed") if isinstance(properties, dict) else None):
        if isinstance(value, bool):
            continue
        if isinstance(value, int | str) and _DIGITS.fullmatch(str(value).strip()):
            return str(value).strip()
    match = _SEED.search(parameters)
    return match.group(1) if match else ""


def story_of(task: Task, *, profile: str, quadrant: int | None = None) -> Story:
    """The story of `task` as the profile `profile` knows it (one cell of it for `quadrant`)."""
    prompt = fit_text(task.prompt)
    final = fit_text(task.final_prompt)
    ran = final or prompt
    parts = scanning.scan(ran)
    parameters = ran[parts.params[0].start :].strip() if parts.params else ""
    return Story(
        task_id=fit_text(task.id, 256),
        prompt=prompt,
        final_prompt="" if final == prompt else final,
        parameters=parameters,
        parent_id=fit_text(task.parent_id, 256),
        action=fit_text(task.action, 64),
        mode=task.mode.value if task.mode else "",
        provider=task.provider.label,
        profile=fit_text(profile, 256),
        seed=_seed(task, parameters),
        submit_time=_iso(task.submit_time),
        finish_time=_iso(task.finish_time),
        quadrant=str(quadrant) if quadrant else "",
        tags=tuple(tag for tag in (fit_text(t, 64) for t in task.tags) if tag),
        starred=task.starred,
    )


# -- the formats ------------------------------------------------------------------------


def _a1111_value(text: str) -> str:
    # the Stable Diffusion tools split that line on commas and colons: quote such values
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ',:"\n') else text


def parameters_text(story: Story, size: tuple[int, int] | None = None) -> str:
    """The ``parameters`` text as Stable Diffusion tools write it: the prompt, then one
    line of ``Key: value`` pairs (which their readers, and image managers, parse)."""
    pairs = [
        ("Seed", story.seed),
        ("Size", f"{size[0]}x{size[1]}" if size else ""),
        ("Model", "Midjourney"),
        ("Parameters", story.parameters),
        ("Final prompt", story.final_prompt),
        ("Task id", story.task_id),
        ("Parent id", story.parent_id),
        ("Quadrant", story.quadrant),
        ("Action", story.action),
        ("Mode", story.mode),
        ("Provider", story.provider),
        ("Profile", story.profile),
        ("Tags", ", ".join(story.tags)),
        ("Starred", "true" if story.starred else ""),
        ("Submitted", story.submit_time),
        ("Finished", story.finish_time),
    ]
    line = ", ".join(f"{key}: {_a1111_value(value)}" for key, value in pairs if value)
    # one line for the prompt: a line of its own could pass for "Negative prompt:" or the pairs
    return " ".join(story.prompt.split()) + "\n" + line


def _alt(text: str) -> str:
    return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt>'


def xmp_packet(story: Story) -> bytes:
    """The XMP packet (UTF-8) for `story`. Text goes in as escaped character data only."""
    made = story.finish_time or story.submit_time
    lines = [
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="mj-tui">',
        f'<rdf:RDF xmlns:rdf="{NS_RDF}">',
        f'<rdf:Description rdf:about="" xmlns:dc="{NS_DC}" xmlns:xmp="{NS_XMP}" '
        f'xmlns:Iptc4xmpExt="{NS_IPTC_EXT}" xmlns:mjtui="{NS_MJTUI}">',
    ]
    if story.prompt:
        lines.append(f"<dc:description>{_alt(story.prompt)}</dc:description>")
        lines.append(f"<dc:title>{_alt(story.title)}</dc:title>")
    if story.tags:  # keywords, where image managers look for them
        items = "".join(f"<rdf:li>{escape(tag)}</rdf:li>" for tag in story.tags)
        lines.append(f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>")
    lines.append("<xmp:CreatorTool>mj-tui</xmp:CreatorTool>")
    if made:
        lines.append(f"<xmp:CreateDate>{escape(made)}</xmp:CreateDate>")
    lines.append(f"<Iptc4xmpExt:DigitalSourceType>{AI_SOURCE_TYPE}</Iptc4xmpExt:DigitalSourceType>")
    for field, value in story.fields().items():
        prop = _MJTUI_PROPERTIES.get(field)
        if prop:
            lines.append(f"<mjtui:{prop}>{escape(value)}</mjtui:{prop}>")
    lines += ["</rdf:Description>", "</rdf:RDF>", "</x:xmpmeta>", '<?xpacket end="w"?>']
    return "\n".join(lines).encode("utf-8")


def _exif_date(iso: str) -> str:
    return iso[:19].replace("-", ":", 2).replace("T", " ")  # 2024:05:01 12:34:56


def _existing_exif(tiff: bytes | None) -> tuple[int, int]:
    """(orientation, colour space) from the EXIF a file had: the tags that change how the
    picture shows. 0 where it says nothing (or cannot be read)."""
    if not tiff:
        return 0, 0
    exif = Image.Exif()
    try:
        exif.load(EXIF_HEADER + tiff)
        orientation = exif.get(_TAG_ORIENTATION, 0)
        space = exif.get_ifd(_TAG_EXIF_IFD).get(_TAG_COLOR_SPACE, 0)
    except Exception:  # a damaged block: what it said is lost either way
        return 0, 0
    return (
        orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 0,
        space if isinstance(space, int) and 0 < space <= 0xFFFF else 0,
    )


def exif_tiff(story: Story, kind: str, existing: bytes | None, size: tuple[int, int] | None = None) -> bytes:
    """EXIF (TIFF bytes) with the prompt as ImageDescription and the parameters text as
    UserComment. Of the EXIF the file had, its orientation and colour space are kept: an
    original from an image CDN carries no camera data, and those are what change its look."""
    orientation, space = _existing_exif(existing)
    made = story.finish_time or story.submit_time
    # UTF-8 in the ASCII-typed description, as the Metadata Working Group recommends
    ifd0 = [
        exif_ascii(_TAG_IMAGE_DESCRIPTION, story.prompt.encode("utf-8")),
        exif_ascii(_TAG_SOFTWARE, b"mj-tui"),
        exif_rational(_TAG_X_RESOLUTION, 72, 1),
        exif_rational(_TAG_Y_RESOLUTION, 72, 1),
        exif_short(_TAG_RESOLUTION_UNIT, 2),  # inches
    ]
    if orientation:
        ifd0.append(exif_short(_TAG_ORIENTATION, orientation))
    details = [
        exif_undefined(_TAG_EXIF_VERSION, b"0232"),
        exif_undefined(_TAG_FLASHPIX_VERSION, b"0100"),
        exif_short(_TAG_COLOR_SPACE, space or 1),  # sRGB, as Midjourney's pictures are
        # "UNICODE" text is UCS-2 in the block's byte order (little-endian here)
        exif_undefined(_TAG_USER_COMMENT, b"UNICODE\x00" + parameters_text(story, size).encode("utf-16-le")),
    ]
    if kind == "jpeg":
        ifd0.append(exif_short(_TAG_YCBCR_POSITIONING, 1))
        details.append(exif_undefined(_TAG_COMPONENTS, b"\x01\x02\x03\x00"))  # Y, Cb, Cr
    if size:
        details += [exif_long(_TAG_PIXEL_X, size[0]), exif_long(_TAG_PIXEL_Y, size[1])]
    if made:
        details.append(exif_ascii(_TAG_DATE_ORIGINAL, _exif_date(made).encode()))
        details.append(exif_ascii(_TAG_OFFSET_ORIGINAL, b"+00:00"))
    return exif_block(ifd0, details)


_T = TypeVar("_T")


def _fitted(story: Story, build: Callable[[Story], _T], fits: Callable[[_T], bool]) -> _T:
    """`build(story)`, with the longest text fields cut until `fits` (JPEG's 64 kB segments)."""
    made = build(story)
    for _ in range(64):
        if fits(made):
            return made
        longest = max(("prompt", "final_prompt", "parameters"), key=lambda name: len(getattr(story, name)))
        text: str = getattr(story, longest)
        if len(text) < 16:
            break
        cut = text[: len(text) * 3 // 4] + "…"
        if longest == "prompt":
            story = replace(story, truncated="true", prompt=cut)
        elif longest == "final_prompt":
            story = replace(story, truncated="true", final_prompt=cut)
        else:
            story = replace(story, truncated="true", parameters=cut)
        made = build(story)
    raise ContainerError("the story does not fit the format's metadata limit")


def embed(data: bytes, kind: str, story: Story, *, size: tuple[int, int] | None = None) -> bytes:
    """`data` (an encoded `kind` file) with `story` written in; the image data is untouched.

    ContainerError when the file's structure cannot be edited in place."""
    if kind == "png":
        size = png_size(data)
        chunks = [png_text_chunk("Description", story.prompt, international=True)] if story.prompt else []
        chunks += [
            png_text_chunk("parameters", parameters_text(story, size)),
            png_text_chunk("Software", "mj-tui"),
            png_text_chunk("XML:com.adobe.xmp", xmp_packet(story).decode("utf-8"), international=True),
        ]
        return png_with_text(data, chunks, PNG_KEYWORDS)
    if kind == "jpeg":
        existing = jpeg_exif(data)
        exif, xmp = _fitted(
            story,
            lambda s: (EXIF_HEADER + exif_tiff(s, kind, existing, size), XMP_HEADER + xmp_packet(s)),
            lambda made: max(len(made[0]), len(made[1])) <= JPEG_SEGMENT_MAX,
        )
        return jpeg_with_app1(data, [exif, xmp])
    if kind == "webp":
        return webp_with_metadata(data, exif_tiff(story, kind, webp_exif(data), size), xmp_packet(story))
    raise ContainerError(f"no metadata writer for {kind} files")


# -- reading it back ----------------------------------------------------------------------


def _local(tag: str) -> tuple[str, str]:
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def _alt_text(element: ElementTree.Element) -> str:
    """A language alternative's x-default (else first) entry, or the element's own text."""
    items = list(element.iter(f"{{{NS_RDF}}}li"))
    if not items:
        return element.text or ""
    for item in items:
        if item.get("{http://www.w3.org/XML/1998/namespace}lang") == "x-default":
            return item.text or ""
    return items[0].text or ""


def parse_xmp(packet: bytes | str) -> dict[str, str]:
    """The story fields in an XMP packet (ours, or one a tool rewrote: properties may be
    elements or attributes). Anything that is not plain XMP reads as no story."""
    text = packet.decode("utf-8", "replace") if isinstance(packet, bytes) else packet
    # XMP never declares a DTD; refusing one keeps entity expansion out of reach
    if len(text) > XMP_MAX or re.search(r"<!(?:DOCTYPE|ENTITY)", text, re.IGNORECASE):
        return {}
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return {}
    found: dict[str, str] = {}
    for description in root.iter(f"{{{NS_RDF}}}Description"):
        for name, value in description.attrib.items():
            namespace, local = _local(name)
            if namespace == NS_MJTUI and local in _FIELD_OF:
                found[_FIELD_OF[local]] = value
        for child in description:
            namespace, local = _local(child.tag)
            if namespace == NS_DC and local == "description":
                found["prompt"] = _alt_text(child)
            elif namespace == NS_DC and local == "subject":
                found["tags"] = "\n".join(item.text or "" for item in child.iter(f"{{{NS_RDF}}}li"))
            elif namespace == NS_MJTUI and local in _FIELD_OF:
                found[_FIELD_OF[local]] = child.text or ""
    order = ["prompt", *_MJTUI_PROPERTIES, "tags"]
    return {name: fit_text(found[name]) for name in order if found.get(name)}


def read_metadata(path: Path) -> dict[str, str]:
    """The story saved in the image at `path` (the fields of :class:`Story`, as text),
    or {} when it carries none. Reads the file's metadata only, never its pixels.

    ImageError when the file cannot be read or is not a PNG, JPEG, WebP or GIF image."""
    path = Path(path)
    try:
        with Image.open(path, formats=FORMATS) as image:
            info = dict(image.info)
            kind = image.format
    except FileNotFoundError:
        raise ImageError(f"{path} does not exist.") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path} is not a PNG, JPEG, WebP or GIF image.") from None
    except Exception as exc:  # OSError, Pillow's many decode errors, a decompression bomb
        raise ImageError(f"{path} could not be read ({exception_detail(exc)}).") from None
    packet = info.get("xmp") or info.get("XML:com.adobe.xmp")
    story = parse_xmp(packet) if isinstance(packet, bytes | str) else {}
    if kind == "PNG" and "prompt" not in story and isinstance(info.get("Description"), str):
        story = {"prompt": fit_text(info["Description"]), **story}
    return story


def sidecar_json(story: Story, image_name: str) -> str:
    """The sidecar file's text: the story's fields, whole, with the image's name."""
    data: dict[str, object] = {"schema": SIDECAR_SCHEMA, "file": image_name, **story.fields()}
    if story.tags:
        data["tags"] = list(story.tags)
    if story.starred:
        data["starred"] = True
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
