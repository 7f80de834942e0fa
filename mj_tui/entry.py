"""The `mj-tui` command (and `python -m mj_tui`): the CLI, with a ctrl+c pressed while
Python is still loading it ending it quietly.

The CLI says "interrupted" itself once it runs (cli.main), and from the first frame on the
terminal sends ctrl+c as a key; before either, a ctrl+c would print a traceback.
"""

from __future__ import annotations

import contextlib
import sys

EXIT_INTERRUPTED = 130  # as a shell reports a program ended by ctrl+c (cli.EXIT_INTERRUPTED)


def main() -> int:
    try:
        from .cli import main as run

        return run()
    except KeyboardInterrupt:
        with contextlib.suppress(KeyboardInterrupt, OSError):
            print("mj-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
