"""Keep Python's full garbage collections out of key presses.

A full (generation 2) collection walks every tracked object.  With the start-up
objects in sight (modules, widgets, the service, a demo's in-process emulator) one
took 55-60 ms in the middle of a page key (benchmarks/ui_thread.py): three frames.
So, once the main screen is connected:

* collect once and freeze what is alive (it is not walked again; what becomes
  garbage later is still freed by reference counting),
* let automatic full collections wait much longer (the young generations keep
  their usual thresholds), and
* run the full collection ourselves when the person has been idle for a moment.

Start-up itself (imports, the stylesheet, the first screen) allocates a few
hundred thousand objects that all live on; Python's collector kept walking them
before the first frame: ~40 ms of collections (one full) against ~12 ms in a bare
Textual app (benchmarks/terminal.py).  So collections are off from just before
the UI is imported until the first frame is out, then what is alive is frozen.
"""

from __future__ import annotations

import gc
import time

IDLE_SECONDS = 1.0  # no key or click for this long: a pause would go unnoticed
CHECK_EVERY = 2.0
FULL_AFTER = 10  # generation-1 collections before a full one is due (Python's default)
THRESHOLD_2 = 1000  # automatic full collections: only after this many (a safety net)

_tuned = False
_held = False


def hold_for_startup() -> None:
    """No collections until `startup_done` (call it on every way out: see run_app)."""
    global _held
    if gc.isenabled():
        _held = True
        gc.disable()


def startup_done() -> None:
    """The first frame is out: freeze the start-up objects and collect again as usual.

    Idempotent.  Garbage made during start-up is frozen with the rest until `tune`
    (once the main screen is connected) unfreezes and collects it.
    """
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


class IdleCollector:
    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self._gen1_seen = gc.get_stats()[1]["collections"]

    def touched(self) -> None:
        self.last_input = time.monotonic()

    def tick(self) -> None:
        if time.monotonic() - self.last_input < IDLE_SECONDS:
            return
        gen1 = gc.get_stats()[1]["collections"]
        if gen1 - self._gen1_seen >= FULL_AFTER:
            self._gen1_seen = gen1
            gc.collect()


def tune(app) -> None:
    """Once per process, after start-up; `app` gets an IdleCollector as `idle_collector`."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.unfreeze()  # what start-up froze is looked at once, now
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, THRESHOLD_2)
    collector = IdleCollector()
    app.idle_collector = collector
    app.set_interval(CHECK_EVERY, collector.tick)
