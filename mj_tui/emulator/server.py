"""Running the emulator on a real socket: in a background thread for tests,
or blocking in the foreground for `mj-tui emulator` / `python -m mj_tui.emulator`."""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from .app import create_app
from .config import EmulatorConfig
from .engine import Engine
from .faults import CLOSE_KEY
from .options import add_arguments, config_from_args


class EmulatorURL(str):
    """The base URL (a plain str) that also carries the running app and engine."""

    app: Starlette
    engine: Engine


def _expose_transport(app: ASGIApp) -> ASGIApp:
    """Let the `drop` fault hang up the TCP connection.

    uvicorn hands the app its per-request cycle's bound `send`; the cycle owns the
    transport. Marking the cycle disconnected stops uvicorn writing a 500 afterwards.
    """

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        cycle = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if scope["type"] == "http" and cycle is not None and transport is not None:

            def close() -> None:
                transport.close()
                cycle.disconnected = True

            scope[CLOSE_KEY] = close
        await app(scope, receive, send)

    return wrapper


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets that do, and
    # without it every response stalls ~40 ms (Nagle vs. delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _server(app: Starlette, host: str, port: int, *, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(
        _expose_transport(app),
        host=host,
        port=port,
        http="h11",
        loop="asyncio",
        lifespan="off",
        log_level=log_level,
        access_log=False,
        log_config=None,  # leave the host app's logging alone
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def running_emulator(
    config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[EmulatorURL]:
    """Serve the emulator from a daemon thread; yields its base URL once it accepts connections."""
    app = create_app(config)
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    server = _server(app, host, port)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"mj-tui-emulator:{port}"
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.005)
    url = EmulatorURL(_url(host, port))
    url.app, url.engine = app, app.state.engine
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(host: str = "127.0.0.1", port: int = 8787, config: EmulatorConfig | None = None) -> None:
    """Run in the foreground until interrupted."""
    app = create_app(config)
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    print(f"mj-tui emulator on {_url(host, port)} (OhMyGPT: /api/v1/ai/draw/mj/*, midjourney-proxy: /mj/*)", flush=True)
    try:
        _server(app, host, port, log_level="info").run(sockets=[sock])
    finally:
        sock.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mj_tui.emulator", description="Local stand-in for the OhMyGPT and midjourney-proxy APIs."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port, config_from_args(args))
    return 0
