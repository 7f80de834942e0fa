"""Choosing the image renderer: from what the terminal says, asked after the first frame.

At start the app draws at once with what is already known: the renderer the user named
(`--graphics`, `[ui] graphics`), or the one chosen for this terminal at an earlier start
(core/terminal_caps.py keeps them per terminal). Otherwise the preview says it is asking,
and once the first frame is out a worker thread asks tmux (its own command) and the
terminal (through the app's driver, which takes the answers out of the input: see
terminal_driver.py), chooses, loads the renderer's module and hands it to the app. The
answer is remembered for the next start, and asked again each time in case the terminal
changed.

The renderers: half-blocks and Sixel are mj-tui's own (halfblock.py, sixel_image.py); kitty's
unicode placeholders (kitty 0.28+) use textual-image, which is imported only then, with its
own terminal queries switched off (they would read stdin under Textual's feet).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..core import terminal_caps as tc

if TYPE_CHECKING:
    from textual.app import App

# cells of a half-cell / unicode picture when the cell's shape is unknown: one pixel wide, two tall
BLOCK_PIXELS = (1, 2)
DEFAULT_CELL = (10, 20)  # a Sixel or kitty picture's cell when the terminal does not say
ASK_TIMEOUT = 1.5  # s: a terminal that has not answered by then is taken as silent


@dataclass(frozen=True)
class Graphics:
    name: str  # in use: tgp, kitty (direct placement), sixel, halfcell, unicode, none, pending (asking)
    image_class: type | None
    pixels_per_cell: tuple[int, int]
    note: str = ""  # why the choice differs from what was asked, if it does
    truecolor: bool = False
    detection: tc.Detection | None = None

    @property
    def pending(self) -> bool:
        return self.name == "pending"


PENDING = Graphics("pending", None, BLOCK_PIXELS)


@contextlib.contextmanager
def _no_terminal_queries() -> Iterator[None]:
    """textual-image asks nothing while this is open.

    Each of its queries (Sixel's `ESC [ c`, kitty graphics' `ESC _ G ... a=q`, the cell
    size's `ESC [ 16 t`) first checks that stdin is there to read the answer from, and
    gives up, writing nothing, when it is not. tests/core/test_graphics_probe.py watches a
    real pty for any of those bytes."""
    stdin = sys.__stdin__
    sys.__stdin__ = None  # type: ignore[misc]
    try:
        yield
    finally:
        sys.__stdin__ = stdin  # type: ignore[misc]


def _textual_image_widgets():
    # its cell-size probe logs a traceback at WARNING on terminals that do not answer
    logging.getLogger("textual_image").setLevel(logging.ERROR)
    with _no_terminal_queries():
        import textual_image.renderable
        import textual_image.widget
        from textual_image import _terminal

    if getattr(_terminal.get_cell_size, "_result", None) is None:
        _terminal.get_cell_size._result = _terminal.CellSize(*DEFAULT_CELL)  # type: ignore[attr-defined]  # its cache
    return textual_image.widget


def graphics_for(choice: tc.Choice, detection: tc.Detection | None = None) -> Graphics:
    """The widget class for `choice` (imports its module: call it off the UI thread when it
    may be textual-image's)."""
    name = choice.renderer
    cell = choice.cell
    common = {"note": choice.note, "truecolor": choice.truecolor, "detection": detection}
    if name == "none":
        return Graphics("none", None, BLOCK_PIXELS, **common)  # type: ignore[arg-type]
    if name == "sixel":
        from .sixel_image import SixelImage

        image_class: type = SixelImage
        if choice.tmux_wrap:
            tmux = detection.caps.tmux if detection is not None else None
            image_class = type(
                "TmuxSixelImage",
                (SixelImage,),
                {"wrap": staticmethod(tc.tmux_wrap), "origin": tmux.offset if tmux is not None else (0, 0)},
            )
        return Graphics("sixel", image_class, cell or DEFAULT_CELL, **common)  # type: ignore[arg-type]
    if name == "kitty":
        from .kitty_direct import KittyDirectImage

        return Graphics("kitty", KittyDirectImage, cell or DEFAULT_CELL, **common)  # type: ignore[arg-type]
    if name == "tgp":
        try:
            _textual_image_widgets()
            from .kitty_image import KittyImage
        except Exception as exc:
            note = f"kitty graphics could not be loaded ({type(exc).__name__}); using half-blocks"
            return graphics_for(replace(choice, renderer="halfcell", note=note), detection)
        image_class = KittyImage
        if choice.tmux_wrap:
            image_class = type("TmuxKittyImage", (KittyImage,), {"wrap": staticmethod(tc.tmux_wrap)})
        if cell:
            from textual_image import _terminal

            _terminal.get_cell_size._result = _terminal.CellSize(*cell)  # type: ignore[attr-defined]
        return Graphics("tgp", image_class, cell or DEFAULT_CELL, **common)  # type: ignore[arg-type]
    if name == "unicode":
        try:
            widgets = _textual_image_widgets()
        except Exception:
            return graphics_for(replace(choice, renderer="halfcell"), detection)
        return Graphics("unicode", widgets.UnicodeImage, BLOCK_PIXELS, **common)  # type: ignore[arg-type]
    from .halfblock import HalfBlockImage

    return Graphics("halfcell", HalfBlockImage, cell or BLOCK_PIXELS, **common)  # type: ignore[arg-type]


def load_graphics(choice: str = "auto") -> Graphics:
    """The renderer for an explicit `choice`, asking the terminal nothing ("auto" without
    asking: half-blocks)."""
    choice = (choice or "auto").lower()
    renderer = "halfcell" if choice == "auto" else choice
    return graphics_for(tc.Choice(renderer, cell=None, truecolor=False, reason="--graphics"))


# -- at start, and after the first frame ---------------------------------------------------------


def _cache_path():
    from ..core.config import cache_dir

    return cache_dir() / tc.CACHE_FILE


def starting_graphics(asked: str, env: dict[str, str]) -> Graphics:
    """What the first frame draws with: no question asked, no textual-image imported."""
    asked = (asked or "auto").lower()
    if asked in ("halfcell", "sixel", "none"):
        return graphics_for(tc.Choice(asked, cell=None, truecolor=False, reason="--graphics"))
    if asked == "auto" and (cached := tc.load_cached(_cache_path(), env)) is not None:
        choice = tc.choose(cached, "auto")
        if choice.renderer in ("halfcell", "sixel", "kitty", "none"):
            return graphics_for(choice, tc.Detection(cached, choice, tc.describe(cached, choice)))
    return PENDING


def detect(driver, env: dict[str, str], asked: str, fd: int | None = None) -> tc.Detection:
    """Ask tmux and the terminal (blocking: a worker thread), choose, remember."""
    tmux = tc.ask_tmux(env) if env.get("TMUX") else None
    text, sentinels = tc.queries(tmux_passthrough=bool(tmux and tmux.passthrough), in_tmux=tmux is not None)
    future = driver.ask(text, sentinels)
    try:
        answers = future.result(timeout=ASK_TIMEOUT)
    except FutureTimeout:
        answers = None
    collected = driver.end_round()
    answers = answers or collected or tc.Answers()
    size = tc.winsize(fd) if fd is not None else None
    caps = tc.caps_from(answers, env, tmux, size)
    if caps.answered:
        tc.save_cached(_cache_path(), env, caps)
    elif (cached := tc.load_cached(_cache_path(), env)) is not None:
        caps = cached  # answered before, silent now (a slow link): keep what it said then
    choice = tc.choose(caps, asked)
    if tmux is not None and tmux.title is not None:
        atexit.register(tc.restore_tmux_title, env, tmux.title)
    return tc.Detection(caps, choice, tc.describe(caps, choice))


def begin(app: App) -> None:
    """After the first frame: ask in a worker thread, then switch the app's renderer."""
    driver = getattr(app, "_driver", None)
    if driver is None or not hasattr(driver, "ask"):
        return
    asked = getattr(getattr(app, "launch", None), "graphics", "auto") or "auto"
    env = dict(os.environ)

    def work() -> None:
        detection = detect(driver, env, asked, fd=getattr(driver, "fileno", None))
        current: Graphics = app.graphics  # type: ignore[attr-defined]
        choice = detection.choice
        cell = choice.cell or current.pixels_per_cell
        if not current.pending and (choice.renderer, choice.tmux_wrap, cell) == (
            current.name,
            False,
            current.pixels_per_cell,
        ):
            # what is drawing already is right: only what was found is added
            graphics = replace(current, detection=detection, note=choice.note, truecolor=choice.truecolor)
        else:
            graphics = graphics_for(choice, detection)
        app.call_from_thread(apply, app, graphics)

    app.run_worker(work, thread=True, group="graphics-detect", exit_on_error=False)


def apply(app: App, graphics: Graphics) -> None:
    """Use `graphics` from now on: the preview (and the next gallery) draw with it."""
    before: Graphics = app.graphics  # type: ignore[attr-defined]
    app.graphics = graphics  # type: ignore[attr-defined]
    if graphics.truecolor:
        with contextlib.suppress(Exception):
            from rich.console import ColorSystem

            app.console._color_system = ColorSystem.TRUECOLOR
    if graphics.note and graphics.note != before.note:
        app.notify(graphics.note, title="Images", severity="warning", markup=False, timeout=8)
    changed = (before.name, before.image_class, before.pixels_per_cell) != (
        graphics.name,
        graphics.image_class,
        graphics.pixels_per_cell,
    )
    main = getattr(app, "main_screen", None)
    if changed and main is not None:
        with contextlib.suppress(Exception):
            main.query_one("#preview").use_graphics(graphics.image_class, graphics.pixels_per_cell, pending=False)


def summary_rows(app: App) -> list[tuple[str, str]]:
    """What was detected and chosen, as (name, value) rows for the help screen."""
    graphics: Graphics | None = getattr(app, "graphics", None)
    if graphics is None:
        return []
    if graphics.detection is None:
        still = "asking the terminal…" if graphics.pending else "as asked (--graphics or [ui] graphics)"
        return [("renderer", f"{graphics.name}, {still}")]
    rows = []
    for line in graphics.detection.lines:
        name, _, value = line.partition(" ")
        rows.append((name, value.strip()))
    return rows
