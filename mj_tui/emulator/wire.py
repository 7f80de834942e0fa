"""Request helpers shared by both dialects: body parsing, base URLs, time formats."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any, TypeAlias

from starlette.requests import Request

# A request body's fields as the client sent them; a handler checks each value it reads.
Body: TypeAlias = dict[str, object]


async def read_body(request: Request) -> Body:
    """JSON, urlencoded or multipart body as a dict; repeated form fields become lists.

    Raises ValueError for a body that cannot be parsed.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()
        except Exception as exc:  # python-multipart raises assorted errors
            raise ValueError("bad form body") from exc
        out: Body = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):  # an uploaded file: keep it as a data URL
                raw = await value.read()
                mime = value.content_type or "application/octet-stream"
                value = f"data:{mime};base64,{base64.b64encode(raw).decode()}"
            if key in out:
                prev = out[key]
                out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                out[key] = value
        return out
    return await read_json(request)


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object in the body ({} for an empty one), its values as decoded: unchecked.

    Raises ValueError for a body that is not a JSON object.
    """
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("bad JSON body") from exc
    if not isinstance(data, dict):
        raise ValueError("JSON body must be an object")
    return data


def as_list(value: object) -> list[str]:
    """A list of strings from a JSON array, repeated form fields or one comma-joined field."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value)
    # Some clients join data URLs with commas; a data URL itself contains one comma.
    if ",data:" in text:
        parts = text.split(",data:")
        return [parts[0]] + ["data:" + p for p in parts[1:]]
    return [text]


def text(body: Body, name: str) -> str:
    value = body.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value).strip()


def base_url(request: Request) -> str:
    """Absolute base of the incoming request, so URLs work over a socket and via ASGITransport."""
    return str(request.base_url).rstrip("/")


def iso(at: float) -> str:
    """OhMyGPT time format: "2023-08-31T13:59:14.000Z"."""
    dt = datetime.fromtimestamp(at, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def ms(at: float) -> int:
    return int(at * 1000)
