"""Run every benchmark and print figures with their ratio to a floor: `python -m benchmarks`."""

from __future__ import annotations

import sys
import time

from .common import machine


def main(argv: list[str]) -> int:
    from . import library, library_ui, network, preview, queue_soak, scale, sixel, soak, terminal, ui_thread

    suites = {
        "network": network,
        "scale": scale,
        "library": library,
        "library-ui": library_ui,
        "ui": ui_thread,
        "preview": preview,
        "sixel": sixel,
        "terminal": terminal,
        "soak": soak,
        "queue-soak": queue_soak,
    }
    chosen = argv or list(suites)
    unknown = [name for name in chosen if name not in suites]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(suites)}", file=sys.stderr)
        return 2
    print(f"# mj-tui benchmarks — {machine()}")
    over = 0
    for name in chosen:
        start = time.perf_counter()
        report = suites[name].run()
        report.print()
        print(f"  ({time.perf_counter() - start:.0f} s)")
        over += sum(1 for row in report.rows if row[3] == "OVER BUDGET")
    print(f"\n{over} figure(s) over budget")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
