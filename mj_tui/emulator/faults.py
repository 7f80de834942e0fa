"""Fault injection for API routes (everything except /_emulator/*).

Tests queue deterministic faults through POST /_emulator/faults; the config's
rates add random ones. Every API request is counted per path first, faulted
or not, so tests can assert "one request per poll tick" and "never sent twice".

A fault is {"kind": ..., options}; a bad one (unknown kind or option, an option of the
wrong type or out of range) is refused with 400 when it is queued, never a 500 later.
What each kind does to the request:

- http (`status` 100-599, default 500; `body`, any JSON, replaces the dialect's error body),
  rate_limit (`retry_after`, a number or any header text, default 1: 429 with Retry-After),
  html (`status`, default 502: a gateway's HTML page), drop (the connection is closed
  without a byte of answer): answered (or cut) before the app runs, so nothing happens
  server-side;
- malformed: the app DOES run (a task may be created), then the body is cut in half and
  sent as a complete answer (a Content-Length that matches), as when a proxy truncates one;
- truncate (`keep`, bytes of the body sent, default half): the app DOES run, then the
  answer's headers promise the whole body, only `keep` bytes of it follow and the
  connection is closed: an answer cut short in transit. In process (the demo's ASGI
  transport) it raises what httpx raises for that;
- delay (`seconds`, default 1): the request waits, then runs normally;
- slow_answer (`seconds`, default 1): the request runs at once; its answer is held back
  (a slow link home: what it says is already out of date when it arrives);
- drip (`seconds` between pieces, default 1; `chunk`, bytes per piece, default 1): the
  request runs at once; its answer leaves `chunk` bytes at a time, so each read is quick
  but the whole takes ages (only a total deadline ends it); stops when the client goes;
- redirect (`status` 300-399, default 307; `location`): nothing runs; the answer points
  elsewhere. Without `location`: the same path and query on the same origin (a loop for
  anything that follows it); a path: the same origin; a full URL: another origin;
- huge (`bytes`, default 16 MiB; `chunked`, default false): nothing runs; a 200 JSON
  answer of that many bytes, streamed (with a Content-Length, or chunked with none);
- gzip_bomb (`bytes` once decoded, default 1 GiB): nothing runs; a 200 JSON answer
  with Content-Encoding: gzip, about 1 kB on the wire per MiB it decodes to.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import re
import struct
import sys
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any, NoReturn, TypeAlias

from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import EmulatorConfig

# the options each kind takes
OPTIONS: dict[str, frozenset[str]] = {
    "http": frozenset({"status", "body"}),
    "rate_limit": frozenset({"retry_after"}),
    "malformed": frozenset(),
    "drop": frozenset(),
    "delay": frozenset({"seconds"}),
    "slow_answer": frozenset({"seconds"}),
    "html": frozenset({"status"}),
    "truncate": frozenset({"keep"}),
    "drip": frozenset({"seconds", "chunk"}),
    "redirect": frozenset({"status", "location"}),
    "huge": frozenset({"bytes", "chunked"}),
    "gzip_bomb": frozenset({"bytes"}),
}
KINDS = set(OPTIONS)
CLOSE_KEY = "mj_emulator.close_connection"  # set by server.py when running on a real socket
_PROXY_PATH = re.compile(r"^/(mj-(fast|relax|turbo)/)?mj/")
MAX_SECONDS = 3600.0
MAX_BYTES = 8 * 1024**3
HUGE_DEFAULT = 16 * 1024**2
BOMB_DEFAULT = 1024**3
_PIECE = 64 * 1024
# header text a fault may set: printable ASCII only (a CR or LF would split the header)
_HEADER_TEXT = re.compile(r"[\x20-\x7e]{0,2000}")

# A fault as posted to /_emulator/faults, checked by `check_fault` when it is queued.
Fault: TypeAlias = dict[str, Any]


def _number(entry: Fault, name: str, low: float, high: float) -> None:
    if name not in entry:
        return
    value = entry[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number: {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}: {value!r}")


def _integer(entry: Fault, name: str, low: int, high: int) -> None:
    if name in entry and (isinstance(entry[name], bool) or not isinstance(entry[name], int)):
        raise ValueError(f"{name} must be a whole number: {entry[name]!r}")
    _number(entry, name, low, high)


def check_fault(entry: object) -> Fault:
    """The fault as it will fire, or ValueError saying what is wrong with it."""
    if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
        raise ValueError(f"fault kind must be one of {sorted(KINDS)}: {entry!r}")
    kind = entry["kind"]
    unknown = set(entry) - {"kind"} - OPTIONS[kind]
    if unknown:
        allowed = sorted(OPTIONS[kind]) or "none"
        raise ValueError(f"{kind} takes no option {sorted(unknown)} (its options: {allowed})")
    if kind == "redirect":
        _integer(entry, "status", 300, 399)
    else:
        _integer(entry, "status", 100, 599)
    _number(entry, "seconds", 0, MAX_SECONDS)
    _integer(entry, "keep", 0, MAX_BYTES)
    _integer(entry, "chunk", 1, MAX_BYTES)
    _integer(entry, "bytes", 1, MAX_BYTES)
    if "chunked" in entry and not isinstance(entry["chunked"], bool):
        raise ValueError(f"chunked must be true or false: {entry['chunked']!r}")
    for name in ("retry_after", "location"):
        if name not in entry:
            continue
        value = entry[name]
        if name == "location" and not isinstance(value, str):
            raise ValueError(f"location must be a string: {value!r}")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"{name} must be a number or a string: {value!r}")
        if not _HEADER_TEXT.fullmatch(str(value)):
            raise ValueError(f"{name} must be printable ASCII (it becomes a header): {value!r}")
    return dict(entry)


class FaultState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.random_seed + 1)
        self.requests: Counter[str] = Counter()
        self._queue: list[tuple[Fault, str | None]] = []
        self._lock = threading.Lock()

    def push(self, entries: list[object], path_contains: object = None) -> int:
        if path_contains is not None and not isinstance(path_contains, str):
            raise ValueError(f"path_contains must be a string: {path_contains!r}")
        faults = [check_fault(entry) for entry in entries]
        with self._lock:
            self._queue += [(f, path_contains or None) for f in faults]
            return len(self._queue)

    def pending(self) -> int:
        return len(self._queue)

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for i, (entry, needle) in enumerate(self._queue):
                if needle is None or needle in path:
                    del self._queue[i]
                    return entry
        return None

    def random_fault(self) -> Fault | None:
        c, roll = self.config, self.rng.random()
        if roll < c.drop_rate:
            return {"kind": "drop"}
        if roll < c.drop_rate + c.error_rate:
            return {"kind": "http", "status": self.rng.choice((500, 502, 503))}
        if roll < c.drop_rate + c.error_rate + c.malformed_rate:
            return {"kind": "malformed"}
        return None

    def count(self, path: str) -> None:
        with self._lock:
            self.requests[path] += 1

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _dialect(path: str) -> str:
    if path.startswith("/api/"):
        return "ohmygpt"
    return "mjproxy" if _PROXY_PATH.match(path) else "other"


def _error_body(path: str, status: int, entry: Fault) -> Response:
    if "body" in entry:
        body = entry["body"]
        return JSONResponse(body, status) if isinstance(body, (dict, list)) else PlainTextResponse(str(body), status)
    phrase = _phrase(status)
    dialect = _dialect(path)
    if dialect == "ohmygpt":
        return JSONResponse({"statusCode": status, "message": phrase, "data": None}, status)
    if dialect == "mjproxy":
        return JSONResponse({"description": phrase, "type": "upstream_error", "code": 9}, status)
    return PlainTextResponse(phrase, status)


def _rate_limited(path: str, entry: Fault) -> Response:
    headers = {"Retry-After": str(entry.get("retry_after", 1))}
    if _dialect(path) == "mjproxy":  # new-api: group saturated, code 30
        body = {"description": "当前分组负载已饱和，请稍后再试", "type": "upstream_error", "code": 30}
    else:
        body = {"statusCode": 429, "message": "Too Many Requests: rate limit exceeded, retry later", "data": None}
    return JSONResponse(body, 429, headers=headers)


def _gateway_page(status: int) -> Response:
    phrase = _phrase(status)
    html = (
        f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    )
    return HTMLResponse(html, status)


def _hang_up(message: str) -> NoReturn:
    """What a client sees when the server hangs up, for the in-process transport
    (httpx is only used when the client has already loaded it)."""
    httpx = sys.modules.get("httpx")
    if httpx is not None:
        raise httpx.RemoteProtocolError(message)
    raise ConnectionResetError(message)


async def _read_request(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _no_more() -> Message:
    return {"type": "http.disconnect"}


async def _client_gone(receive: Receive) -> None:
    """Returns once the client has disconnected (the request body was read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _redirect(scope: Scope, entry: Fault) -> Response:
    location = entry.get("location")
    if location is None:  # the same path and query, on the same origin
        query = scope.get("query_string", b"").decode("latin-1")
        location = scope.get("path", "/") + (f"?{query}" if query else "")
    status = int(entry.get("status", 307))
    return JSONResponse({"redirect": location}, status, headers={"Location": str(location)})


def _huge_pieces(size: int) -> Iterator[bytes]:
    """A JSON object of exactly `size` bytes (plain filler below the size of its braces)."""
    head, tail = b'{"padding": "', b'"}'
    if size < len(head) + len(tail):
        yield b"x" * size
        return
    yield head
    filler, left = b"x" * _PIECE, size - len(head) - len(tail)
    while left > 0:
        yield filler[: min(left, _PIECE)]
        left -= _PIECE
    yield tail


async def _huge(receive: Receive, send: Send, size: int, chunked: bool) -> None:
    headers = [(b"content-type", b"application/json")]
    if not chunked:
        headers.append((b"content-length", str(size).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    gone = asyncio.ensure_future(_client_gone(receive))
    try:
        for piece in _huge_pieces(size):
            if gone.done():
                return
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(0)  # let a disconnect be noticed
        await send({"type": "http.response.body", "body": b""})
    finally:
        gone.cancel()


@functools.lru_cache(maxsize=4)
def _bomb(size: int) -> bytes:
    """A gzip member that inflates to a `size`-byte JSON object, built in a fraction of a second.

    Deflate after a full flush starts from an empty window, so every 1 MiB run of "x" after
    one compresses to the same bytes: compress it once and repeat it."""
    head, tail = b'{"padding": "', b'"}'
    fill = max(0, size - len(head) - len(tail))
    block = b"x" * min(fill, 1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)]
    crc = zlib.crc32(head)
    whole, rest = divmod(fill, len(block)) if block else (0, 0)
    if whole:
        unit = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
        parts.append(unit * whole)
        for _ in range(whole):
            crc = zlib.crc32(block, crc)
    if rest:
        parts.append(deflate.compress(block[:rest]) + deflate.flush(zlib.Z_FULL_FLUSH))
        crc = zlib.crc32(block[:rest], crc)
    parts.append(deflate.compress(tail) + deflate.flush())
    crc = zlib.crc32(tail, crc)
    total = len(head) + fill + len(tail)
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return gzip_header + b"".join(parts) + struct.pack("<II", crc, total & 0xFFFFFFFF)


async def _gzip_bomb(send: Send, size: int) -> None:
    body = _bomb(size)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-encoding", b"gzip"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        st = self.state
        st.count(path)
        fault = st.take(path) or st.random_fault()
        if st.config.latency_seconds > 0:
            await asyncio.sleep(st.rng.uniform(0, st.config.latency_seconds))
        if fault is None:
            await self.app(scope, receive, send)
            return
        kind = fault["kind"]
        if kind == "delay":
            await asyncio.sleep(float(fault.get("seconds", 1.0)))
            await self.app(scope, receive, send)
        elif kind == "slow_answer":
            await self._slow_answer(scope, receive, send, float(fault.get("seconds", 1.0)))
        elif kind == "drop":
            await self._drop(scope, receive)
        elif kind == "malformed":
            await self._malformed(scope, receive, send)
        elif kind == "truncate":
            await self._truncate(scope, receive, send, fault.get("keep"))
        elif kind == "drip":
            await self._drip(scope, receive, send, float(fault.get("seconds", 1.0)), int(fault.get("chunk", 1)))
        elif kind in ("redirect", "huge", "gzip_bomb"):
            # the app never sees the request; read its body all the same, or closing the
            # socket on unread bytes resets the connection under the answer
            await _read_request(receive)
            if kind == "redirect":
                await _redirect(scope, fault)(scope, _no_more, send)
            elif kind == "huge":
                await _huge(receive, send, int(fault.get("bytes", HUGE_DEFAULT)), bool(fault.get("chunked", False)))
            else:
                await _gzip_bomb(send, int(fault.get("bytes", BOMB_DEFAULT)))
        elif kind == "rate_limit":
            await _rate_limited(path, fault)(scope, receive, send)
        elif kind == "html":
            await _gateway_page(int(fault.get("status", 502)))(scope, receive, send)
        else:
            await _error_body(path, int(fault.get("status", 500)), fault)(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
        """Run the app and keep its answer: the start message and the whole body."""
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        return start, body

    async def _truncate(self, scope: Scope, receive: Receive, send: Send, keep: int | None) -> None:
        start, body = await self._answer(scope, receive)  # the job exists from here on
        cut = body[: len(body) // 2 if keep is None else keep]
        close = scope.get(CLOSE_KEY)
        if close is None:  # in process: no socket to cut, so raise what httpx raises for one
            _hang_up("peer closed connection without sending complete message body")
        # the headers promise the whole body; part of it follows, then the line goes dead
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": cut, "more_body": True})
        close()
        await asyncio.sleep(0)

    async def _drip(self, scope: Scope, receive: Receive, send: Send, seconds: float, chunk: int) -> None:
        start, body = await self._answer(scope, receive)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        gone = asyncio.ensure_future(_client_gone(receive))
        try:
            for offset in range(0, len(body), chunk):
                await send({"type": "http.response.body", "body": body[offset : offset + chunk], "more_body": True})
                await asyncio.wait({gone}, timeout=seconds)
                if gone.done():
                    return
            await send({"type": "http.response.body", "body": b""})
        finally:
            gone.cancel()

    async def _drop(self, scope: Scope, receive: Receive) -> None:
        close = scope.get(CLOSE_KEY)
        if close is not None:  # real socket: hang up without a byte of response
            # read the request body first: closing a socket with unread bytes in it sends
            # a reset (the client sees "connection reset", a different error) instead of
            # the plain hang-up this fault stands for
            while (await receive()).get("more_body", False):
                pass
            close()
            await asyncio.sleep(0)
            return
        # In-process (httpx.ASGITransport) there is no socket to close; raise what httpx
        # itself raises for a server that hangs up.
        _hang_up("Server disconnected without sending a response.")

    async def _slow_answer(self, scope: Scope, receive: Receive, send: Send, seconds: float) -> None:
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, hold)
        await asyncio.sleep(seconds)
        for message in messages:
            await send(message)

    async def _malformed(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, body = await self._answer(scope, receive)
        cut = body[: len(body) // 2] if len(body) > 1 else b"{"
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": cut})
