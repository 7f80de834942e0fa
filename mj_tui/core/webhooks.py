"""A small HTTP server that takes the providers' callbacks (webhooks) for this run.

Both dialects can POST a task's state to a URL given with the submit, so a job's progress
arrives without polling. Neither signs its callbacks: the only proof that one comes from
the provider is a secret in the URL. So every run draws a random token, puts it in the
query string of each callback URL it hands out, and refuses (403) any request without it.
Everything else about a callback is untrusted too: its size is capped, its JSON must
parse, and the dialect's own parser reads it like any answer.

It runs inside the caller's event loop (uvicorn's server without its signal handling or
logging: a TUI draws on the terminal, so nothing may be printed), and nothing a caller
of the URL sends can make it raise into uvicorn.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import inspect
import logging
import re
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .errors import ConfigError, MjError
from .http import parse_json
from .models import Task

log = logging.getLogger(__name__)
# a library's logger: with no logging set up, Python's last-resort handler would print
# warnings on stderr, under the TUI
log.addHandler(logging.NullHandler())

#: the largest callback body taken; a task object is a few kB
MAX_BODY = 1024 * 1024
#: what a job name in a callback URL may be
_JOB = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PATH = "/mj-tui/hook"

OnTask = Callable[[str, Task], Awaitable[None] | None]


class ListenError(ConfigError):
    """The callback server cannot listen where it was asked to."""

    title = "Webhook listener"


def parse_listen(text: str) -> tuple[str, int]:
    """ "HOST:PORT" ("[::1]:8765" for IPv6) as given to --webhook-listen."""
    value = (text or "").strip()
    host, sep, port = value.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ListenError(f"“{value[:80]}” is not HOST:PORT (for example 127.0.0.1:8765).")
    return host, int(port)


class _TooLarge(Exception):
    pass


class WebhookListener:
    """Takes callbacks at ``url_for(job)`` and hands each task to ``on_task(job, task)``.

    `parse` turns a callback's JSON into a Task: a provider's ``parse_callback``. `on_task`
    may be a plain function or a coroutine function; what it raises is logged, never sent
    back. `public_url` is the base the provider must call when it is not http://HOST:PORT
    (behind NAT or a tunnel); callbacks are still served on HOST:PORT.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        parse: Callable[[Any], Task],
        on_task: OnTask,
        public_url: str | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        self.host = host
        self.port = port
        self._parse = parse
        self._on_task = on_task
        self._public_url = public_url.rstrip("/") if public_url else None
        if self._public_url is not None:
            parts = urlsplit(self._public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
                raise ListenError("The public webhook URL must be http:// or https://, with no query string.")
        self.max_body = max_body
        self._token = secrets.token_urlsafe(24)
        #: callbacks accepted and handed on (for a status line)
        self.received = 0
        #: callbacks refused (a wrong token, too large, not JSON, not a task)
        self.rejected = 0
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._app = Starlette(routes=[Route(PATH + "/{job}", self._receive, methods=["POST"])])

    def __repr__(self) -> str:  # never shows the token
        return f"WebhookListener({self.host!r}, {self.port!r}, received={self.received})"

    @property
    def base_url(self) -> str:
        if self._public_url:
            return self._public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url_for(self, job: str) -> str:
        """The callback URL for one submit; `job` names it in `on_task` (a short id)."""
        if not _JOB.fullmatch(job or ""):
            raise ValueError("a job name is 1 to 64 letters, digits, '.', '_' or '-'")
        return f"{self.base_url}{PATH}/{quote(job)}?token={self._token}"

    # -- serving --------------------------------------------------------------------
    async def start(self) -> None:
        import uvicorn  # loaded only when callbacks are wanted

        self._socket = self._bind()
        self.port = self._socket.getsockname()[1]  # port 0: the one the system chose
        config = uvicorn.Config(
            self._app,
            http="h11",
            lifespan="off",
            # nothing on the terminal: no access log, no logging set up, only the most severe
            # of uvicorn's own messages (a TUI draws on stderr)
            access_log=False,
            log_config=None,
            log_level="critical",
            server_header=False,
            timeout_graceful_shutdown=1,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        try:
            # startup() and shutdown() rather than serve(): serve() takes over the process's
            # signal handlers, which belong to the caller
            await server.startup(sockets=[self._socket])
        except BaseException:
            self._socket.close()
            self._socket = None
            raise
        self._server = server

    def _bind(self) -> socket.socket:
        where = f"{self.host}:{self.port}"
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise ListenError(f"Cannot listen on {where}: {exc}") from None
        family, kind, proto, _name, address = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.bind(address)
            sock.listen(64)
        except OSError as exc:
            sock.close()
            why = "address in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise ListenError(f"Cannot listen on {where}: {why}.") from None
        sock.setblocking(False)
        return sock

    async def aclose(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.should_exit = True
            await server.shutdown(sockets=[self._socket] if self._socket else None)
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def __aenter__(self) -> WebhookListener:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- one callback ---------------------------------------------------------------
    async def _receive(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except asyncio.CancelledError:
            raise
        except Exception:  # never a traceback from uvicorn: the caller of the URL is a stranger
            log.exception("webhook: a callback could not be handled")
            self.rejected += 1
            return PlainTextResponse("not handled", status_code=400)

    async def _handle(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            self.rejected += 1
            return PlainTextResponse("forbidden", status_code=403)
        job = request.path_params["job"]
        try:
            raw = await self._read(request)
        except _TooLarge:
            self.rejected += 1
            return PlainTextResponse("too large", status_code=413)
        except ClientDisconnect:
            return PlainTextResponse("gone", status_code=400)
        try:
            payload = parse_json(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.rejected += 1
            return PlainTextResponse("not JSON", status_code=400)
        try:
            task = self._parse(payload)
        except (MjError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            log.info("webhook: a callback for %s held no usable task: %s", job, exc)
            self.rejected += 1
            return PlainTextResponse("not a task", status_code=400)
        self.received += 1
        try:
            result = self._on_task(job, task)
            if inspect.isawaitable(result):
                await result
        except Exception:  # the callback's own bug: logged, and the provider need not retry
            log.exception("webhook: on_task failed for %s", job)
        return PlainTextResponse("ok")

    async def _read(self, request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise _TooLarge
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body:
                raise _TooLarge
        return bytes(body)
