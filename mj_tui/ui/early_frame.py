"""The first frame, written to the terminal before Textual is imported.

Importing Textual takes about as long as a bare Textual app takes to draw its first
line; the start screen (screens/start.py) cannot come before that. This frame can: the
same panes with page 1 of the local store (built by start_frame.py, as the start screen
builds them), in the colours the start screen's last run was drawn in, written as they
are. Textual then starts on it (its driver does not switch screens again, see
MjDriver) and draws the start screen over it, cell for cell the same.

The colours are not worked out here: that takes Textual's theme machinery. The app
keeps, per terminal and theme, each style the frame can use as the escape sequence
Textual wrote for it, with the header and footer lines as drawn (`Kept`, saved by
`remember` from the start screen). Where nothing is kept for this terminal yet (the
first start, another theme, a new terminal), no early frame is drawn and the start
screen is the first frame, as before.

From the moment the frame is written the terminal is in the mode Textual will put it
in (no echo, keys as bytes): keys typed meanwhile wait in the terminal, unseen, and
reach the app in order once it reads them. `EarlyFrame.undo` puts the terminal back if
the app never gets that far (it runs at exit unless Textual took the terminal over).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import termios
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.terminal_caps import locale_is_utf8, terminal_key
from . import start_frame
from .ascii_looks import to_ascii

if TYPE_CHECKING:
    from ..core.history import History
    from ..core.models import Page
    from ..launch import Launch

CACHE_FILE = "first-frame.json"
FORMAT = 1  # what is kept changes shape: older entries are not read
RESET = "\x1b[0m"
# the screen Textual draws on, no cursor, no line wrap (writing the last cell of the last
# line must not scroll), and the frame as one update where the terminal supports that
BEGIN = "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[?2026h"
END = "\x1b[?2026l"
LEAVE = "\x1b[?7h\x1b[?25h\x1b[?1049l"


@dataclass
class Kept:
    """What the start screen's last run leaves for the next start's early frame."""

    #: each style of start_frame.styles() as the escape sequence that begins it
    styles: dict[str, str]
    #: the header and footer lines as drawn, for `bars` (their width and words)
    bars: str
    header: str
    footer: str
    #: the header's and footer's background, for a line of the right colour without words
    header_fill: str
    footer_fill: str

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **self.__dict__}


@dataclass
class EarlyFrame:
    """A frame on screen before Textual: what the app takes over from it."""

    history: History  # open, with page 1 read from it
    page: Page
    fd: int  # the terminal's input, whose modes changed
    modes: list[Any]  # its modes before: what the app puts back at its exit
    armed: bool = field(default=True)  # `undo` still to run at exit

    def handed_over(self) -> None:
        """Textual has the terminal: it leaves the screen and restores `modes` itself."""
        self.armed = False

    def undo(self) -> None:
        if not self.armed:
            return
        self.armed = False
        try:
            _write(sys.__stderr__.fileno(), LEAVE)  # type: ignore[union-attr]  # (None: AttributeError)
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.modes)
        except (OSError, termios.error, AttributeError, ValueError):
            pass


def frame_key(env: dict[str, str], theme: str) -> str:
    """What the kept colours depend on: the terminal, how many colours it is said to have,
    the locale's encoding, the theme."""
    parts = [
        terminal_key(env),
        env.get("COLORTERM", ""),
        "no-color" if env.get("NO_COLOR") else "",
        env.get("TEXTUAL_COLOR_SYSTEM", ""),
        "utf8" if locale_is_utf8(env) else "ascii",
        theme,
    ]
    return "|".join(parts)


def bars(launch: Launch, width: int) -> str:
    """What the header and footer lines show at the first frame (their words and width)."""
    profile = launch.profile
    mode = str(profile.default_mode or "")
    keys = sorted(launch.config.keymap.items())
    return json.dumps([width, profile.name, profile.provider.label, launch.demo, mode, profile.queue_limit, keys])


def kept_path() -> Path:
    from ..core.config import cache_dir

    return cache_dir() / CACHE_FILE


def load(path: Path, key: str) -> Kept | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))[key]
        if entry.pop("format", None) != FORMAT:
            return None
        kept = Kept(**entry)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(kept.styles, dict) or not all(isinstance(v, str) for v in kept.styles.values()):
        return None
    return kept


def remember(path: Path, key: str, kept: Kept) -> bool:
    """Keep `kept` for this terminal (best effort: a read-only cache only means no early
    frame next time). False when it was kept already."""
    try:
        known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}
    entry = kept.as_json()
    if known.get(key) == entry:
        return False
    known[key] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(known, indent=1), encoding="utf-8")
        scratch.replace(path)
    except OSError:
        return False
    return True


def render(lines: list[start_frame.Line], styles: dict[str, str]) -> list[str] | None:
    """Each line as the terminal is sent it; None when a style has no kept colours."""
    out = []
    for line in lines:
        parts = []
        for text, style in line:
            begin = styles.get(style)
            if begin is None:
                return None
            parts.append(f"{begin}{text}{RESET}" if begin else text)
        out.append("".join(parts))
    return out


def frame(kept: Kept, launch: Launch, size: os.terminal_size, page: Page, now: datetime) -> str | None:
    """The whole first frame as one write, or None when it cannot be drawn as kept."""
    width, height = size.columns, size.lines
    if width < 2 or height < 3:
        return None
    body = start_frame.panes(width, height - 2, page, now, launch.profile.default_mode)
    rows = render(body, kept.styles)
    if rows is None:
        return None
    if kept.bars == bars(launch, width):
        header, footer = kept.header, kept.footer
    else:  # another width or other words: the bars' colour now, their words from Textual
        header, footer = (f"{fill}{' ' * width}{RESET}" for fill in (kept.header_fill, kept.footer_fill))
    lines = [header, *rows, footer]
    return BEGIN + "".join(f"\x1b[{y};1H{line}" for y, line in enumerate(lines, start=1)) + END


def draw(launch: Launch, env: dict[str, str] | None = None) -> EarlyFrame | None:
    """Write the first frame now, if this terminal's colours are kept; the open store and
    the page go to the app with it. None (and nothing written) when it cannot be drawn."""
    env = dict(os.environ) if env is None else env
    if launch.key.key is None and not launch.demo:
        return None  # the welcome screen comes first, not the main screen's layout
    stdin, stderr = sys.__stdin__, sys.__stderr__
    if stdin is None or stderr is None or env.get("TERM", "dumb") == "dumb" or env.get("TEXTUAL"):
        return None
    try:
        fd, out = stdin.fileno(), stderr.fileno()
        if not (os.isatty(fd) and os.isatty(out)):
            return None
        size = os.get_terminal_size(out)
    except (OSError, ValueError):
        return None
    kept = load(kept_path(), frame_key(env, launch.config.theme))
    if kept is None:
        return None
    try:
        history = launch.open_history(defer_index=True)
    except Exception:  # the start screen opens it again, and says what is wrong
        return None
    early: EarlyFrame | None = None
    try:
        from ..core.history import store_page

        page = store_page(history, launch.profile, 1, start_frame.page_size(size.lines, launch.profile.page_size))
        text = frame(kept, launch, size, page, datetime.now(UTC))
        if text is None:
            history.close()
            return None
        modes = termios.tcgetattr(fd)
        early = EarlyFrame(history, page, fd, modes)
        termios.tcsetattr(fd, termios.TCSANOW, _app_modes(modes, env))
        atexit.register(early.undo)
        _write(out, text if locale_is_utf8(env) else to_ascii(text))
    except Exception:
        # the terminal as it was, and the start screen draws the first frame instead
        if early is not None:
            early.undo()
        history.close()
        return None
    return early


def _app_modes(modes: list[Any], env: dict[str, str]) -> list[Any]:
    """The terminal modes Textual's driver sets: no echo, no line editing, keys as bytes
    (ctrl+c, ctrl+s, ctrl+q and enter included). Set now, keys typed before Textual reads
    them are the same bytes it would have read."""
    new = [*modes[:6], list(modes[6])]
    signals = 0 if env.get("TEXTUAL_ALLOW_SIGNALS") else termios.ISIG
    new[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | signals)
    new[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR | termios.IGNCR)
    new[6][termios.VMIN] = 1
    return new


def _write(fd: int, text: str) -> None:
    data = text.encode("utf-8", "replace")
    while data:
        data = data[os.write(fd, data) :]
