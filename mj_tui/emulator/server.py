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
from .config import Account, EmulatorConfig
from .engine import Engine
from .faults import CLOSE_KEY


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Emulator options, shared with the `mj-tui emulator` subcommand."""
    d = EmulatorConfig()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--job-seconds", type=float, default=d.job_seconds, help="duration of one job")
    parser.add_argument("--grid-size", type=int, default=d.grid_size)
    parser.add_argument("--queue-limit", type=int, default=d.queue_limit, help="OhMyGPT unfinished tasks per key")
    parser.add_argument("--proxy-concurrency", type=int, default=d.proxy_concurrency)
    parser.add_argument("--proxy-queue-size", type=int, default=d.proxy_queue_size)
    parser.add_argument("--seed-history", type=int, default=d.seed_history, help="finished tasks per dialect")
    parser.add_argument("--demo-key", default=d.demo_key, help="account that receives the seeded history")
    parser.add_argument("--remix", action="store_true", help="proxy V/reroll/pan need the modal step")
    parser.add_argument("--closed", action="store_true", help="reject unknown keys (see --key)")
    parser.add_argument("--key", action="append", default=[], help="a known API key (repeatable)")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--malformed-rate", type=float, default=0.0)
    parser.add_argument("--latency-seconds", type=float, default=0.0)
    parser.add_argument("--random-seed", type=int, default=0)


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        job_seconds=args.job_seconds,
        grid_size=args.grid_size,
        queue_limit=args.queue_limit,
        proxy_concurrency=args.proxy_concurrency,
        proxy_queue_size=args.proxy_queue_size,
        accounts={k: Account() for k in args.key},
        open_access=not args.closed,
        remix=args.remix,
        seed_history=args.seed_history,
        demo_key=args.demo_key,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        malformed_rate=args.malformed_rate,
        latency_seconds=args.latency_seconds,
        random_seed=args.random_seed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mj_tui.emulator", description="Local stand-in for the OhMyGPT and midjourney-proxy APIs."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port, config_from_args(args))
    return 0
