"""`mj-tui doctor`: what the terminal said it can draw, and the renderer mj-tui picks.

It asks the same questions the TUI asks after its first frame (core/terminal_caps.py), on
the raw terminal, prints what came back, and remembers it for the TUI's next start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print what was found as JSON")
    parser.add_argument("--timeout", type=float, default=1.5, help="seconds to wait for the terminal's answers")


def _tty() -> int | None:
    for stream in (sys.stdin, sys.stdout):
        try:
            if stream is not None and stream.isatty():
                return stream.fileno()
        except (ValueError, OSError):
            continue
    return None


def cmd_doctor(args: argparse.Namespace) -> int:
    from .core import terminal_caps as tc
    from .core.config import cache_dir, load_config

    env = dict(os.environ)
    config = load_config()
    asked = (getattr(args, "graphics", None) or config.graphics or "auto").lower()
    tmux = tc.ask_tmux(env)
    fd = _tty()
    answers, size = tc.Answers(), None
    if fd is not None:
        text, sentinels = tc.queries(tmux_passthrough=bool(tmux and tmux.passthrough), in_tmux=tmux is not None)
        answers = tc.ask_tty(fd, text, sentinels, timeout=args.timeout)
        size = tc.winsize(fd)
    caps = tc.caps_from(answers, env, tmux, size)
    path = cache_dir() / tc.CACHE_FILE
    if caps.answered:
        tc.save_cached(path, env, caps)
    choice = tc.choose(caps, asked)
    early = _early_frame_kept(env, config.theme)
    if args.json:
        found = {"terminal": asdict(caps), "choice": asdict(choice), "asked": asked, "early_frame": early}
        print(json.dumps(found, indent=2))
        return 0
    if fd is None:
        print("not a terminal: nothing could be asked")
    for line in tc.describe(caps, choice):
        print(line)
    print(f"override      --graphics auto|tgp|sixel|halfcell|unicode|none, or [ui] graphics (now: {asked})")
    if early:
        print(
            "first frame   drawn before Textual loads (its colours are kept for this terminal and theme;"
            " not the welcome screen's, shown while no key is set)"
        )
    else:
        print("first frame   drawn by Textual (colours for an earlier one are kept at the next start here)")
    return 0


def _early_frame_kept(env: dict[str, str], theme: str) -> bool:
    """Whether the TUI's next start here draws its first frame before Textual loads."""
    from .ui import early_frame

    return early_frame.load(early_frame.kept_path(), early_frame.frame_key(env, theme)) is not None
