"""A saved picture carries its story: read back with Pillow and with a plain XML parser,
never only with mj-tui's own reader."""

from __future__ import annotations

import io
import json
import re
import struct
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from mj_tui.core.errors import ImageError
from mj_tui.core.images import ImageCache, Story, read_metadata, story_of
from mj_tui.core.images.containers import ContainerError
from mj_tui.core.images.metadata import embed
from mj_tui.core.models import Mode, ProviderKind, Status, Task

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "mjtui": "urn:mj-tui:story:1/",
}
SIZE = (96, 64)


def picture(fmt: str, **options) -> bytes:
    image = Image.new("RGB", SIZE, (200, 40, 40))
    image.paste((20, 200, 20), (SIZE[0] // 2, 0, SIZE[0], SIZE[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def make_task(prompt: str = "a red fox in the snow --ar 3:2 --seed 1234", **changes) -> Task:
    base = Task(
        id="1712345678901",
        provider=ProviderKind.OHMYGPT,
        action="UPSCALE",
        status=Status.SUCCESS,
        prompt=prompt,
        final_prompt=prompt + " --v 6.1",
        submit_time=datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC),
        finish_time=datetime(2024, 5, 1, 12, 35, 40, tzinfo=UTC),
        mode=Mode.FAST,
        parent_id="1712345670000",
    )
    return base.with_(**changes)


def planted(tmp_path: Path, data: bytes, key: str = "k") -> ImageCache:
    cache = ImageCache(tmp_path / "cache")
    cache.path_for(key).parent.mkdir(parents=True, exist_ok=True)
    cache.path_for(key).write_bytes(data)
    return cache


def xmp_bytes(raw: bytes) -> bytes:
    """The XMP packet of a PNG, JPEG or WebP file, found by walking its container here (not
    with mj-tui's code): the iTXt "XML:com.adobe.xmp", the APP1 "http://ns.adobe.com/xap/1.0/"
    segment, or the "XMP " chunk."""
    if raw.startswith(b"\x89PNG"):
        pos = 8
        while pos < len(raw):
            length, kind = struct.unpack_from(">I4s", raw, pos)
            body = raw[pos + 8 : pos + 8 + length]
            if kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\x00"):
                keyword, flag, _method, rest = body[:17], body[18], body[19], body[20:]
                assert keyword == b"XML:com.adobe.xmp" and flag == 0
                _language, _translated, text = rest.split(b"\x00", 2)
                return text
            pos += 12 + length
    elif raw.startswith(b"\xff\xd8"):
        pos = 2
        while raw[pos] == 0xFF and raw[pos + 1] not in (0xDA, 0xD9):
            (length,) = struct.unpack_from(">H", raw, pos + 2)
            body = raw[pos + 4 : pos + 2 + length]
            if raw[pos + 1] == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
                return body[29:]
            pos += 2 + length
    elif raw[:4] == b"RIFF":
        pos = 12
        while pos < len(raw):
            kind, length = raw[pos : pos + 4], struct.unpack_from("<I", raw, pos + 4)[0]
            if kind == b"XMP ":
                return raw[pos + 8 : pos + 8 + length]
            pos += 8 + length + (length & 1)
    raise AssertionError("no XMP packet in the file")


def xmp_fields(raw: bytes) -> dict[str, object]:
    root = ElementTree.fromstring(xmp_bytes(raw))  # raises on anything that is not well-formed XML
    description = root.find("rdf:RDF/rdf:Description", NS)
    assert description is not None
    li = description.find("dc:description/rdf:Alt/rdf:li", NS)
    found: dict[str, object] = {"description": li.text if li is not None else None}
    for child in description:
        if child.tag.startswith("{" + NS["mjtui"]):
            found[child.tag.split("}", 1)[1]] = child.text
    return found


STORY_KEYS = {"prompt", "final_prompt", "parameters", "task_id", "parent_id", "action", "mode", "provider", "profile"}


@pytest.mark.parametrize(
    ("fmt", "options", "ext", "kind"),
    [
        ("PNG", {}, ".png", "PNG"),
        ("JPEG", {"quality": 90}, ".jpg", "JPEG"),
        ("WEBP", {"lossless": True}, ".webp", "WEBP"),
    ],
)
def test_every_format_carries_the_story(tmp_path, fmt, options, ext, kind):
    original = picture(fmt, **options)
    cache = planted(tmp_path, original)
    task = make_task()
    story = story_of(task, profile="work")
    saved = cache.export("k", tmp_path / "out", "fox", story=story)
    assert saved.suffix == ext  # the original's format is kept
    raw = saved.read_bytes()

    with Image.open(saved) as image:
        assert image.format == kind and image.size == SIZE
        image.load()
        if kind == "PNG":
            text = image.text  # type: ignore[attr-defined]
            assert text["Description"] == task.prompt
            prompt_line, params_line = text["parameters"].split("\n")
            assert prompt_line == task.prompt
            assert "Seed: 1234" in params_line and f"Task id: {task.id}" in params_line
            assert "Mode: fast" in params_line and "Provider: OhMyGPT" in params_line
            assert f"Size: {SIZE[0]}x{SIZE[1]}" in params_line
        else:
            exif = image.getexif()
            assert exif[0x010E].encode("latin-1").decode("utf-8") == task.prompt  # ImageDescription
            comment = exif.get_ifd(0x8769)[0x9286]  # UserComment: "UNICODE\0" + UTF-16
            if isinstance(comment, bytes):
                comment = comment[8:].decode("utf-16-le")
            assert task.id in comment
        # the picture itself is untouched
        with Image.open(io.BytesIO(original)) as before:
            assert list(image.convert("RGB").getdata()) == list(before.convert("RGB").getdata())

    fields = xmp_fields(raw)
    assert fields["description"] == task.prompt
    assert fields["TaskId"] == task.id and fields["ParentId"] == task.parent_id
    assert fields["Seed"] == "1234" and fields["Profile"] == "work" and fields["Provider"] == "OhMyGPT"
    assert fields["SubmitTime"] == "2024-05-01T12:34:56Z" and fields["FinishTime"] == "2024-05-01T12:35:40Z"
    assert fields["FinalPrompt"] == task.final_prompt and fields["Action"] == "UPSCALE"

    back = read_metadata(saved)
    assert set(back) >= STORY_KEYS
    assert back == story.fields()


def test_a_png_original_keeps_its_image_data_byte_for_byte(tmp_path):
    original = picture("PNG")
    cache = planted(tmp_path, original)
    saved = cache.export("k", tmp_path / "out", "x", story=story_of(make_task(), profile="p"))

    def idat(data: bytes) -> bytes:
        return b"".join(m.group(0) for m in re.finditer(rb"IDAT.*?(?=....IDAT|....IEND)", data, re.S))

    assert idat(saved.read_bytes()) == idat(original)
    # the text comes before the image data, where viewers read it without decoding
    raw = saved.read_bytes()
    assert raw.index(b"parameters") < raw.index(b"IDAT")


def test_a_quadrant_is_a_png_with_its_cell_number(tmp_path):
    cache = planted(tmp_path, picture("JPEG"))
    task = make_task()
    saved = cache.export("k", tmp_path / "out", "x", quadrant=2, story=story_of(task, profile="p", quadrant=2))
    assert saved.suffix == ".png"
    with Image.open(saved) as image:
        assert image.size == (SIZE[0] // 2, SIZE[1] // 2)
        assert "Quadrant: 2" in image.text["parameters"]  # type: ignore[attr-defined]
    assert xmp_fields(saved.read_bytes())["Quadrant"] == "2"


HOSTILE = [
    "esc \x1b[31mred\x1b[0m bell\x07 nul\x00 c1\x9b2J del\x7f",
    'xml <rdf:li>&amp; "quotes" \'single\' </x:xmpmeta> ]]> <?xpacket end="w"?> <!DOCTYPE x>',
    "狐狸在雪中 🦊🔥 ＆ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 e\u0301 RTL \u202eevil",
    "line one\nline two\r\nNegative prompt: not really\nSteps: 99",
]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("prompt", HOSTILE, ids=["controls", "xml", "unicode", "lines"])
def test_hostile_prompts_are_written_safely(tmp_path, fmt, prompt):
    cache = planted(tmp_path, picture(fmt))
    task = make_task(prompt=prompt, final_prompt="")
    story = story_of(task, profile="p")
    saved = cache.export("k", tmp_path / "out", "x", story=story)
    raw = saved.read_bytes()
    assert b"\x1b" not in xmp_bytes(raw)
    expected = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", prompt)
    fields = xmp_fields(raw)  # well-formed XML, whatever the prompt held
    assert fields["description"] == expected.replace("\r", "") or fields["description"] == expected
    assert read_metadata(saved)["prompt"] == fields["description"]
    with Image.open(saved) as image:
        image.load()
        assert image.size == SIZE
        if fmt == "PNG":
            params = image.text["parameters"]  # type: ignore[attr-defined]
            assert len(params.split("\n")) == 2  # the prompt cannot add lines to the pairs


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_huge_prompt_fits_every_format(tmp_path, fmt):
    prompt = ("a very long prompt 狐 " * 6000) + "--seed 7"  # ~120k characters
    cache = planted(tmp_path, picture(fmt))
    story = story_of(make_task(prompt=prompt, final_prompt=""), profile="p")
    saved = cache.export("k", tmp_path / "out", "x", story=story, sidecar=True)
    fields = xmp_fields(saved.read_bytes())
    assert str(fields["description"]).startswith("a very long prompt 狐")
    with Image.open(saved) as image:
        image.load()
    if fmt == "JPEG":  # 64 kB segments: cut, and the file says so; the sidecar has the whole
        assert fields["Truncated"] == "true"
    sidecar = json.loads(saved.with_suffix(".json").read_text("utf-8"))
    assert sidecar["prompt"] == story.prompt


def test_sidecar_json_content(tmp_path):
    cache = planted(tmp_path, picture("PNG"))
    task = make_task()
    saved = cache.export("k", tmp_path / "out", "fox", story=story_of(task, profile="work"), sidecar=True)
    sidecar = json.loads(saved.with_suffix(".json").read_text("utf-8"))
    assert sidecar == {
        "schema": "mj-tui.story/1",
        "file": saved.name,
        "task_id": task.id,
        "prompt": task.prompt,
        "final_prompt": task.final_prompt,
        "parameters": "--ar 3:2 --seed 1234 --v 6.1",
        "parent_id": task.parent_id,
        "action": "UPSCALE",
        "mode": "fast",
        "provider": "OhMyGPT",
        "profile": "work",
        "seed": "1234",
        "submit_time": "2024-05-01T12:34:56Z",
        "finish_time": "2024-05-01T12:35:40Z",
    }


def test_tags_and_starred_are_written_where_known(tmp_path):
    cache = planted(tmp_path, picture("PNG"))
    story = story_of(make_task(prompt="owl", tags=("birds", "night, dark"), starred=True), profile="p")
    assert story.tags == ("birds", "night, dark") and story.starred
    assert story_of(make_task(), profile="p").tags == () and not story_of(make_task(), profile="p").starred
    saved = cache.export("k", tmp_path / "out", "owl", story=story, sidecar=True)
    root = ElementTree.fromstring(xmp_bytes(saved.read_bytes()))
    assert [li.text for li in root.iterfind(".//dc:subject/rdf:Bag/rdf:li", NS)] == ["birds", "night, dark"]
    assert root.find(".//mjtui:Starred", NS).text == "true"  # type: ignore[union-attr]
    back = read_metadata(saved)
    assert back["tags"] == "birds\nnight, dark" and back["starred"] == "true"
    sidecar = json.loads(saved.with_suffix(".json").read_text("utf-8"))
    assert sidecar["tags"] == ["birds", "night, dark"] and sidecar["starred"] is True


def test_the_seed_comes_from_the_server_when_it_says(tmp_path):
    task = make_task(prompt="fox", final_prompt="", raw={"properties": {"seed": 987654}})
    assert story_of(task, profile="p").seed == "987654"
    assert story_of(make_task(prompt="fox", final_prompt=""), profile="p").seed == ""


def test_a_broken_container_is_refused_not_misread(tmp_path):
    story = Story(task_id="1", prompt="x")
    for kind, data in [("png", picture("PNG")[:40]), ("jpeg", b"\xff\xd8\xff\xe0\x00"), ("webp", b"RIFF\0\0\0\0WEBP")]:
        with pytest.raises(ContainerError):
            embed(data, kind, story)


def test_read_metadata_of_what_is_no_picture(tmp_path):
    junk = tmp_path / "x.png"
    junk.write_bytes(b"<html>gone</html>")
    with pytest.raises(ImageError, match="not a PNG"):
        read_metadata(junk)
    with pytest.raises(ImageError, match="does not exist"):
        read_metadata(tmp_path / "none.png")
    plain = tmp_path / "plain.png"
    plain.write_bytes(picture("PNG"))
    assert read_metadata(plain) == {}
