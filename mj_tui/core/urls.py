"""Links as they may be shown: without the query strings Discord signs them with."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit

from .text import clean


def display_url(url: str) -> str:
    """scheme://host/path only: Discord signs its links in the query string."""
    return clean(_display_url(url), one_line=True)


def _display_url(url: str) -> str:
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "an invalid link"
    if not parts.scheme:
        return "an invalid link"
    path = parts.path
    if len(path) > 120:
        path = f"{path[:60]}...{path[-40:]}"
    if not host:  # data:, mailto: and the like
        return f"{parts.scheme}:{path}"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{path}"


def display_origin(url: str) -> str:
    """scheme://host[:port] alone: where a link points, without its path or query."""
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "an invalid address"
    if not parts.scheme or not host:
        return "an invalid address"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return clean(f"{parts.scheme}://{netloc}", one_line=True)


URL_TAIL = re.compile(r"([a-z][a-z0-9+.-]*://[^\s?#'\"<>]*)[?#][^\s'\"<>]*", re.IGNORECASE)


def without_query(text: str, url: str) -> str:
    """Drop query strings from library error text, which sometimes quotes the URL."""
    text = URL_TAIL.sub(r"\1", text)
    with contextlib.suppress(ValueError):
        query = urlsplit(url).query
        if query:
            text = text.replace(query, "...")
    return text
