"""A hostile HTTP server for the adversarial tests: its own, not the emulator.

It answers each path from a script of responders that write raw bytes on the socket, so
a test can break HTTP itself (half an answer, a drip, a hang-up, a lying header).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: what must never reach an output: C0 and C1 controls, DEL, bidi overrides and isolates
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
OMG = "/api/v1/ai/draw/mj"
PROXY = "/mj-fast/mj"
RELEASE = threading.Event()  # set at each case's teardown: no responder outlives its test


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""


class Hostile:
    """A loopback HTTP server answering each path from a script of responders.

    A responder writes raw bytes on the handler's socket, so it can break HTTP itself;
    a path's responders are used in turn, the last one for every later request."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Callable[[Any], None]]] = {}
        self.seen: list[Seen] = []
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
                    super().handle()

            def serve(self) -> None:
                length = self.headers.get("Content-Length", "0")
                body = self.rfile.read(int(length)) if length.isdigit() else b""
                path, query = urlsplit(self.path).path, urlsplit(self.path).query
                headers = {k.lower(): v for k, v in self.headers.items()}
                hostile.seen.append(Seen(self.command, path, headers, body, query))
                for suffix, script in hostile.routes.items():
                    if path.endswith(suffix):
                        responder = script.pop(0) if len(script) > 1 else script[0]
                        responder(self)
                        return
                send(self, 404, b'{"error": "no route"}')

            do_GET = do_POST = serve

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.origin + path

    def route(self, suffix: str, *responders: Callable[[Any], None]) -> None:
        self.routes[suffix] = list(responders)

    def requests_to(self, suffix: str) -> int:
        return sum(1 for s in self.seen if s.path.endswith(suffix))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- responders


def send(h, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    h.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    h.wfile.flush()


def answer(status: int, body: bytes | str | object, content_type: str = "application/json", **headers: str):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body

    def respond(h) -> None:
        send(h, status, data, content_type, **headers)

    return respond


def ok(body: object):
    return answer(200, body)


def raw_head(h, status: int, headers: dict[str, str]) -> None:
    lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers.items())]
    h.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    h.wfile.flush()


def task(dialect: str, task_id: object = "123", **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "status": "IN_PROGRESS",
        "progress": "42%",
        "prompt": "a hostile fox",
        "action": "IMAGINE",
    }
    base["taskId" if dialect == "ohmygpt" else "id"] = task_id
    base.update(fields)
    return base


def fetch_body(dialect: str, data: object) -> object:
    return {"statusCode": 200, "message": "ok", "data": data} if dialect == "ohmygpt" else data


def list_body(dialect: str, items: list[object], total: object = None) -> object:
    if dialect == "ohmygpt":
        return {"statusCode": 200, "data": {"total": len(items) if total is None else total, "tasks": items}}
    return items


def submitted(dialect: str, result: object, **props: object) -> object:
    if dialect == "ohmygpt":
        return {"statusCode": 200, "message": "ok", "data": result}
    return {"code": 1, "description": "submitted", "result": result, "properties": props}


def refusal(dialect: str, text: str) -> tuple[int, object]:
    if dialect == "ohmygpt":
        return 400, {"statusCode": 400, "message": text, "data": None}
    return 200, {"code": 4, "description": text, "result": None}


def with_literal(body: object, marker: str, literal: str) -> bytes:
    """JSON with a raw literal where `marker` was (1e999, NaN, 400 digits: not what json.dumps writes)."""
    return json.dumps(body).replace(json.dumps(marker), literal).encode()
