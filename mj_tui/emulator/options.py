"""The emulator's command-line options, shared by `python -m mj_tui.emulator` and
`mj-tui emulator` (light: the CLI builds its parser without loading the server)."""

from __future__ import annotations

import argparse

from .config import Account, EmulatorConfig


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
