"""Fault injection for API routes (everything except /_emulator/*).

Tests queue deterministic faults through POST /_emulator/faults; the config's
rates add random ones. Every API request is counted per path first, faulted
or not, so tests can assert "one request per poll tick" and "never sent twice".

What each kind does to the request:
- http / rate_limit / html / drop: answered (or cut) before the app runs,
  so nothing happens server-side;
- malformed: the app DOES run (a task may be created), then the body is cut
  in half, as when a proxy truncates a response;
- delay: the request waits, then runs normally.
- slow_answer: the request runs at once; its answer is held back for `seconds`
  (a slow link home: what it says is already out of date when it arrives).
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import threading
from collections import Counter
from http import HTTPStatus
from typing import Any, TypeAlias

from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import EmulatorConfig

KINDS = {"http", "rate_limit", "malformed", "drop", "delay", "slow_answer", "html"}
CLOSE_KEY = "mj_emulator.close_connection"  # set by server.py when running on a real socket
_PROXY_PATH = re.compile(r"^/(mj-(fast|relax|turbo)/)?mj/")

# A fault as posted to /_emulator/faults: "kind" is checked when it is queued; the rest
# (status, seconds, retry_after, body) is read leniently when it fires.
Fault: TypeAlias = dict[str, Any]


class FaultState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.random_seed + 1)
        self.requests: Counter[str] = Counter()
        self._queue: list[tuple[Fault, str | None]] = []
        self._lock = threading.Lock()

    def push(self, entries: list[object], path_contains: str | None = None) -> int:
        faults: list[Fault] = []
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
                raise ValueError(f"fault kind must be one of {sorted(KINDS)}: {entry!r}")
            faults.append(dict(entry))
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
        elif kind == "rate_limit":
            await _rate_limited(path, fault)(scope, receive, send)
        elif kind == "html":
            await _gateway_page(int(fault.get("status", 502)))(scope, receive, send)
        else:
            await _error_body(path, int(fault.get("status", 500)), fault)(scope, receive, send)

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
        # itself raises for a server that hangs up. httpx is only used if already loaded.
        httpx = sys.modules.get("httpx")
        if httpx is not None:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        raise ConnectionResetError("Server disconnected without sending a response.")

    async def _slow_answer(self, scope: Scope, receive: Receive, send: Send, seconds: float) -> None:
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, hold)
        await asyncio.sleep(seconds)
        for message in messages:
            await send(message)

    async def _malformed(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        cut = body[: len(body) // 2] if len(body) > 1 else b"{"
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": cut})
