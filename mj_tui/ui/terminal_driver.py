"""Textual's Linux driver, with these changes for a terminal used over SSH and tmux.

- It can ask the terminal questions while the app runs (`ask`): the answers are taken out
  of the input before Textual's key parser sees them, so the first frame never waits on
  them and no answer turns into a stray key press.
- The terminal's focus-in and focus-out reports are dropped: Textual restyles the whole
  screen on each, which repaints every picture (a Sixel picture is sent again, ~100 kB,
  on every alt-tab). Nothing in mj-tui looks different with or without the terminal's
  focus. A focus-in is told to the app (`focus_came_back`): inside tmux it means tmux
  has drawn the pane again, and pictures passed through to the terminal are gone.
- On a terminal whose locale is not UTF-8, every character outside ASCII is written as
  an ASCII look-alike of the same width (borders, bars, icons), not as mojibake.
- It starts on the screen a frame drawn before Textual was loaded is on (early_frame.py),
  without switching to it again, and restores at exit the modes from before that frame.
- When the terminal goes away (its input ends), the app ends (exit 129).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from concurrent.futures import Future

from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

from ..core.terminal_caps import AnswerCollector, Answers
from .ascii_looks import to_ascii

FOCUS_IN, FOCUS_OUT = "\x1b[I", "\x1b[O"
FOCUS_REPORTS = (FOCUS_IN, FOCUS_OUT)
ALT_SCREEN = "\x1b[?1049h"
EXIT_HANGUP = 129  # as a shell reports a program ended by SIGHUP


class _Round:
    def __init__(self, sentinels: int) -> None:
        self.collector = AnswerCollector(sentinels)
        self.future: Future[Answers] = Future()


class MjDriver(LinuxDriver):
    ascii_only = False  # set by run_app from the locale

    def __init__(self, app, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self._round: _Round | None = None
        self._round_lock = threading.Lock()
        self._released = ""  # input held back during a round, for the parser

    # -- output ----------------------------------------------------------------------------------
    def start_application_mode(self) -> None:
        """As Textual's, on the screen an early frame is drawn on (early_frame.py): not
        switching to it again, and restoring at exit the modes from before that frame."""
        early = getattr(getattr(self._app, "launch", None), "early_frame", None)
        self._on_early_frame = early is not None and early.armed
        super().start_application_mode()
        if early is not None and self._on_early_frame:
            self._on_early_frame = False
            self.attrs_before = early.modes
            early.handed_over()

    def write(self, data: str) -> None:
        if getattr(self, "_on_early_frame", False) and data == ALT_SCREEN:
            return  # there already: switching again clears it on some terminals
        if self.ascii_only and not data.isascii():
            data = to_ascii(data)
        super().write(data)

    def write_raw(self, data: str) -> None:
        """Write bytes that must go out as they are (picture payloads: ASCII already)."""
        super().write(data)

    # -- questions --------------------------------------------------------------------------------
    def ask(self, text: str, sentinels: int) -> Future[Answers]:
        """Write `text` and collect the answers until `sentinels` device-attributes answers
        have come; the caller waits on the future (with a timeout) and then `end_round`s."""
        round_ = _Round(sentinels)
        with self._round_lock:
            self._round = round_
        self.write_raw(text)
        return round_.future

    def end_round(self) -> Answers | None:
        with self._round_lock:
            round_, self._round = self._round, None
        if round_ is None:
            return None
        held = round_.collector.close()  # goes through at the next read or tick (see _filter)
        with self._round_lock:
            self._released += held
        return round_.collector.answers

    def _filter(self, text: str) -> str:
        with self._round_lock:
            round_ = self._round
            released, self._released = self._released, ""
        text = released + text
        if round_ is not None and round_.collector.open:
            text = round_.collector.feed(text)
            if round_.collector.done and not round_.future.done():
                round_.future.set_result(round_.collector.answers)
        if FOCUS_IN in text:
            came_back = getattr(self._app, "focus_came_back", None)
            if came_back is not None:
                self._tell_app(came_back)
        for report in FOCUS_REPORTS:
            if report in text:
                text = text.replace(report, "")
        return text

    def _tell_app(self, callback) -> None:
        """Run `callback` on the app's loop, in the app's own context, as call_from_thread
        runs one (what it starts, a timer, looks the app up there and dies without it), and
        without waiting for it."""
        app = self._app

        async def tell() -> None:
            with app._context():
                callback()

        with contextlib.suppress(RuntimeError):  # the app's loop closing: nothing left to tell
            asyncio.run_coroutine_threadsafe(tell(), loop=self._loop)

    def _terminal_gone(self) -> None:
        """The terminal is gone (the SSH link dropped, its window closed, its tmux pane
        killed): nobody is left to see or answer anything. The app ends as ctrl+q ends it,
        without asking; jobs in flight go on at the provider and are picked up at the next
        start, as after a crash."""
        self._tell_app(lambda: self._app.exit(return_code=EXIT_HANGUP))

    # -- input ---------------------------------------------------------------------------------------
    def run_input_thread(self) -> None:
        """Read the terminal, take out the answers and focus reports, hand the rest to
        Textual's parser."""
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")(errors="replace").decode
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)

        def pass_on(text: str) -> None:
            for event in parser.feed(text):
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                ready = selector.select(0.1)
                if ready:
                    try:
                        data = os.read(self.fileno, 4096)
                    except OSError:  # EIO: the terminal hung up
                        data = b""
                    if not data:
                        self._terminal_gone()
                        break
                    text = self._filter(decode(data))
                    if text:
                        pass_on(text)
                elif self._released:
                    pass_on(self._filter(""))
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()
