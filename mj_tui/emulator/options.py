"""The emulator's command-line options, shared by `python -m mj_tui.emulator` and
`mj-tui emulator` (light: the CLI builds its parser without loading the server)."""

from __future__ import annotations

import argparse

from .config import Account, EmulatorConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Emulator options, shared with the `mj-tui emulator` subcommand."""
    d = EmulatorConfig()
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8787, help="port to listen on (0: any free one)")
    parser.add_argument(
        "--job-seconds", type=float, default=d.job_seconds, help="how long one simulated job takes (0: instant)"
    )
    parser.add_argument("--grid-size", type=int, default=d.grid_size, help="long side of a grid image, in pixels")
    parser.add_argument(
        "--queue-limit", type=int, default=d.queue_limit, help="OhMyGPT: unfinished tasks a key may have at once"
    )
    parser.add_argument(
        "--proxy-concurrency", type=int, default=d.proxy_concurrency, help="midjourney-proxy: jobs running at once"
    )
    parser.add_argument(
        "--proxy-queue-size", type=int, default=d.proxy_queue_size, help="midjourney-proxy: jobs waiting at most"
    )
    parser.add_argument(
        "--seed-history", type=int, default=d.seed_history, help="finished tasks to start with, per dialect"
    )
    parser.add_argument(
        "--demo-key",
        default=d.demo_key,
        help="the API key whose account holds the seeded history (default %(default)s)",
    )
    parser.add_argument(
        "--remix", action="store_true", help="Remix mode: proxy Vary, reroll and pan buttons ask for a prompt"
    )
    parser.add_argument(
        "--proxy-users",
        action="store_true",
        help="midjourney-proxy: keys are ordinary users, not administrators, so cancel is refused",
    )
    parser.add_argument("--closed", action="store_true", help="refuse keys it does not know (see --key)")
    parser.add_argument("--key", action="append", default=[], help="an API key it knows (repeatable)")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of API requests answered with a 5xx")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="share of API requests whose connection drops")
    parser.add_argument(
        "--malformed-rate", type=float, default=0.0, help="share of API answers cut short (invalid JSON)"
    )
    parser.add_argument(
        "--latency-seconds", type=float, default=0.0, help="each API request waits up to this long first"
    )
    parser.add_argument("--random-seed", type=int, default=0, help="seed for the faults above (repeatable runs)")


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
        proxy_admin=not args.proxy_users,
        seed_history=args.seed_history,
        demo_key=args.demo_key,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        malformed_rate=args.malformed_rate,
        latency_seconds=args.latency_seconds,
        random_seed=args.random_seed,
    )
