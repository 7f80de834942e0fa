"""What the terminal can draw: asked once, read from its answers, remembered per terminal.

The questions (`QUERIES`) are all ones a terminal answers without showing anything, and the
last is the device-attributes query, which every terminal answers: its answer closes the
round, as terminals answer in order. Inside tmux the questions for the outer terminal go
wrapped in tmux's passthrough (when `allow-passthrough` lets them through); unwrapped, tmux
would show the kitty-graphics query as the pane's title. tmux itself is asked with its own
command (`tmux display-message`), not over the terminal.

Nothing here draws or imports the UI: the TUI sends `queries()` through its own driver and
feeds the answers to an `AnswerCollector`; `mj-tui doctor` asks on the raw tty (`ask_tty`).
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

# json, subprocess and the like are imported where they are used: this module is loaded on
# every start, before the first frame, which needs none of them

KITTY_QUERY_ID = 4242
XTVERSION = "\x1b[>0q"
KITTY_QUERY = f"\x1b_Gi={KITTY_QUERY_ID},s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
CELL_SIZE = "\x1b[16t"  # cell size in pixels
WINDOW_SIZE = "\x1b[14t"  # text area in pixels (where the cell size is not answered)
DEVICE_ATTRIBUTES = "\x1b[c"
QUERIES = XTVERSION + KITTY_QUERY + CELL_SIZE + WINDOW_SIZE + DEVICE_ATTRIBUTES
CACHE_FILE = "terminals.json"
PLACEHOLDER_KITTY = (0, 28)  # kitty draws unicode-placeholder images from 0.28 on
TRUECOLOR_NAMES = ("kitty", "wezterm", "foot", "iterm", "ghostty", "alacritty", "konsole", "contour", "rio")


def tmux_wrap(text: str) -> str:
    """`text` in tmux's DCS passthrough: tmux hands it to the outer terminal as it is."""
    return "\x1bPtmux;" + text.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def queries(*, tmux_passthrough: bool = False, in_tmux: bool = False) -> tuple[str, int]:
    """The bytes to write, and how many device-attributes answers end the round."""
    if tmux_passthrough:
        return tmux_wrap(QUERIES), 1
    if in_tmux:  # tmux answers the device attributes itself; nothing else may go out raw
        return DEVICE_ATTRIBUTES, 1
    return QUERIES, 1


# -- reading the answers ---------------------------------------------------------------------

_ANSWER = re.compile(
    r"\x1bP>\|(?P<xtversion>[^\x1b]*)\x1b\\"
    r"|\x1b_G(?P<kitty>[^\x1b]*)\x1b\\"
    r"|\x1b\[\?(?P<da1>[\d;]*)c"
    r"|\x1b\[6;(?P<cell_h>\d+);(?P<cell_w>\d+)t"
    r"|\x1b\[4;(?P<win_h>\d+);(?P<win_w>\d+)t"
    r"|\x1bP[^\x1b]*\x1b\\"  # any other DCS answer (an unknown-query reply): dropped
)
# the start of an answer not complete yet: kept until the rest arrives
_PARTIAL = re.compile(r"\x1b(?:P[^\x1b]*\x1b?|_[^\x1b]*\x1b?|\[\??[\d;]*)?\Z")


@dataclass
class Answers:
    """What the terminal answered, one field per question."""

    xtversion: str = ""
    kitty: str | None = None  # the graphics query's answer ("OK" or an error), None: none came
    da1: tuple[int, ...] | None = None
    cell: tuple[int, int] | None = None  # (width, height) in pixels
    window: tuple[int, int] | None = None  # (width, height) in pixels

    def take(self, match: re.Match[str]) -> bool:
        """Record one answer; True for a device-attributes answer (the end of a round)."""
        found = match.groupdict()
        if found["xtversion"] is not None:
            # the terminal's own words: shown to people, so printable characters only
            self.xtversion = "".join(c for c in found["xtversion"] if c.isprintable())[:80]
        elif found["kitty"] is not None:
            control, _, message = found["kitty"].partition(";")
            if f"i={KITTY_QUERY_ID}" in control.split(","):
                self.kitty = "".join(c for c in message if c.isprintable())[:80]
        elif found["da1"] is not None:
            self.da1 = tuple(int(p) for p in found["da1"].split(";") if p.isdigit())
            return True
        elif found["cell_h"] is not None:
            self.cell = (int(found["cell_w"]), int(found["cell_h"]))
        elif found["win_h"] is not None:
            self.window = (int(found["win_w"]), int(found["win_h"]))
        return False


def parse_answers(text: str) -> Answers:
    answers = Answers()
    for match in _ANSWER.finditer(text):
        answers.take(match)
    return answers


class AnswerCollector:
    """Takes the terminal's answers out of the input while a round is open, and lets
    everything else (keys, mouse) through untouched, in order.

    `feed` may be called with input split anywhere: the start of an answer is held until
    its end arrives (or the round is closed, when it goes through as it came)."""

    def __init__(self, sentinels: int = 1) -> None:
        self.answers = Answers()
        self.raw: list[str] = []
        self._left = sentinels
        self._held = ""
        self.open = True

    @property
    def done(self) -> bool:
        return self._left <= 0

    def feed(self, text: str) -> str:
        if not self.open:
            return text
        text, self._held = self._held + text, ""
        out: list[str] = []
        at = 0
        while (start := text.find("\x1b", at)) != -1:
            match = _ANSWER.match(text, start)
            if match is not None:
                out.append(text[at:start])
                self.raw.append(match.group())
                if self.answers.take(match):
                    self._left -= 1
                at = match.end()
                if self.done:
                    self.open = False
                    break
                continue
            if _PARTIAL.match(text, start):
                out.append(text[at:start])
                self._held = text[start:]
                return "".join(out)
            out.append(text[at : start + 1])
            at = start + 1
        out.append(text[at:])
        return "".join(out)

    def close(self) -> str:
        """End the round; what was held goes through."""
        self.open = False
        held, self._held = self._held, ""
        return held


# -- what the terminal is ------------------------------------------------------------------


@dataclass(frozen=True)
class Tmux:
    """What tmux says about itself and the terminal it runs in."""

    version: str = ""
    passthrough: bool = False
    features: tuple[str, ...] = ()  # client_termfeatures: RGB, sixel, ...
    outer: str = ""  # the outer terminal's name, as tmux knows it
    title: str = ""  # the pane title before mj-tui ran
    offset: tuple[int, int] = (0, 0)  # the pane's top-left corner in the outer terminal (x, y)

    @property
    def sixel(self) -> bool:
        return "sixel" in self.features

    @property
    def truecolor(self) -> bool:
        return "RGB" in self.features


@dataclass(frozen=True)
class Caps:
    """What the terminal can draw."""

    name: str = ""  # the terminal's own name: kitty, XTerm, WezTerm, foot...
    version: str = ""
    xtversion: str = ""
    kitty_graphics: bool = False
    sixel: bool = False
    cell: tuple[int, int] | None = None
    truecolor: bool = False
    utf8: bool = True
    tmux: Tmux | None = None
    answered: bool = False  # False: nothing came back (a silent terminal)
    term: str = ""
    from_cache: bool = False

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", self.version)[:3])


def split_xtversion(text: str) -> tuple[str, str]:
    """`kitty(0.26.5)`, `XTerm(379)`, `WezTerm 20240203-110809-5046fc22`, `tmux 3.3a`."""
    found = re.match(r"\s*([A-Za-z][\w.\-]*)\s*[( ]\s*([^)]*)\)?\s*$", text)
    if found:
        return found.group(1), found.group(2).strip()
    return text.strip(), ""


def locale_is_utf8(env: dict[str, str]) -> bool:
    """The locale the terminal is told about (LC_ALL, then LC_CTYPE, then LANG) names UTF-8.
    Unset everywhere counts as UTF-8 (what nearly every terminal is); C and POSIX do not.

    Python itself puts LC_CTYPE=C.UTF-8 in the environment when it starts in the C locale
    (PEP 538): with LANG still C or POSIX, that is Python's doing, not the terminal's."""
    if not env.get("LC_ALL") and env.get("LC_CTYPE") == "C.UTF-8" and env.get("LANG") in ("C", "POSIX"):
        return False
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name)
        if value:
            lowered = value.lower().replace("-", "")
            return "utf8" in lowered
    return True


def _env_truecolor(env: dict[str, str], name: str) -> bool:
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return True
    known = " ".join((name, env.get("TERM_PROGRAM", ""), env.get("TERM", ""))).lower()
    return any(n in known for n in TRUECOLOR_NAMES) or env.get("TERM", "").endswith("-direct")


def caps_from(
    answers: Answers,
    env: dict[str, str],
    tmux: Tmux | None = None,
    winsize: tuple[int, int, int, int] | None = None,
) -> Caps:
    """The capabilities `answers` show. `winsize` is (cols, rows, xpixel, ypixel) from the kernel."""
    name, version = split_xtversion(answers.xtversion) if answers.xtversion else ("", "")
    if not name and tmux is not None and tmux.outer:
        name, version = split_xtversion(tmux.outer)
    if not name:  # terminals that do not answer XTVERSION often say who they are in the environment
        name = env.get("TERM_PROGRAM", "") or ("kitty" if env.get("KITTY_WINDOW_ID") else "")
        version = env.get("TERM_PROGRAM_VERSION", "") if env.get("TERM_PROGRAM") else ""
    cell = answers.cell if answers.cell and min(answers.cell) > 0 else None
    if cell is None and winsize is not None:
        cols, rows, xpix, ypix = winsize
        window = answers.window if answers.window and min(answers.window) > 0 else (xpix, ypix)
        if min(window) > 0 and cols > 0 and rows > 0:
            cell = (window[0] // cols, window[1] // rows)
            cell = cell if min(cell) > 0 else None
    truecolor = _env_truecolor(env, name)
    if tmux is not None:  # tmux draws the colours: what it knows of the outer terminal counts
        truecolor = tmux.truecolor or env.get("COLORTERM", "").lower() in ("truecolor", "24bit")
    return Caps(
        name=name,
        version=version,
        xtversion=answers.xtversion,
        kitty_graphics=answers.kitty is not None and answers.kitty.startswith("OK"),
        sixel=answers.da1 is not None and 4 in answers.da1[1:],
        cell=cell,
        truecolor=truecolor,
        utf8=locale_is_utf8(env),
        tmux=tmux,
        answered=answers.da1 is not None or bool(answers.xtversion) or answers.kitty is not None,
        term=env.get("TERM", ""),
    )


# -- which renderer --------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """The renderer picked, and why."""

    renderer: str  # tgp (kitty placeholders), kitty (kitty direct placement), sixel, halfcell, unicode, none
    cell: tuple[int, int] | None  # the real cell size in pixels, when known
    truecolor: bool
    tmux_wrap: bool = False  # graphics sequences go out in tmux's passthrough
    note: str = ""  # one line: why not the better picture, when it is not
    reason: str = ""  # one line: why this one


def choose(caps: Caps, asked: str = "auto") -> Choice:
    """The renderer for `caps`; `asked` is the user's --graphics (auto: ours to pick)."""
    cell = caps.cell
    tmux = caps.tmux
    passthrough = tmux is not None and tmux.passthrough
    wrap = passthrough and not (tmux is not None and tmux.sixel)
    is_kitty = caps.name.lower() == "kitty"
    placeholders = caps.kitty_graphics and is_kitty and caps.version_tuple >= PLACEHOLDER_KITTY
    base: dict[str, Any] = {"cell": cell, "truecolor": caps.truecolor}
    if asked == "tgp" and caps.kitty_graphics and not placeholders and tmux is None:
        # the kitty protocol, as asked, the way this terminal can draw it
        return Choice(
            "kitty", reason=f"--graphics tgp: {caps.name or 'the terminal'} places without placeholders", **base
        )
    if asked != "auto":
        # the user's choice stands, unless the terminal has said it cannot draw it: then the
        # picture would be raw text across the pane, or nothing; half-blocks, and a word why
        instead = "; half-blocks instead."
        if asked in ("tgp", "sixel") and tmux is not None and not passthrough:
            note = f"--graphics {asked}: tmux passes no pictures without `set -g allow-passthrough on`" + instead
            return Choice("halfcell", note=note, reason="--graphics, not drawable here", **base)
        if asked == "sixel" and caps.answered and not (caps.sixel or (tmux is not None and tmux.sixel)):
            note = f"--graphics sixel: {caps.name or 'this terminal'} says it does not draw Sixel" + instead
            return Choice("halfcell", note=note, reason="--graphics, not drawable here", **base)
        if asked == "tgp" and caps.answered and not caps.kitty_graphics:
            note = f"--graphics tgp: {caps.name or 'this terminal'} does not speak kitty graphics" + instead
            return Choice("halfcell", note=note, reason="--graphics, not drawable here", **base)
        note = _no_placeholders(caps) if asked == "tgp" and caps.answered and not placeholders else ""
        return Choice(asked, tmux_wrap=wrap and asked in ("tgp", "sixel"), note=note, reason="--graphics", **base)
    if tmux is not None and not passthrough:
        return Choice(
            "halfcell",
            reason="tmux without allow-passthrough: half-blocks (set -g allow-passthrough on for pictures)",
            **base,
        )
    if placeholders:
        return Choice("tgp", tmux_wrap=wrap, reason=f"kitty {caps.version}: graphics with placeholders", **base)
    if tmux is not None and tmux.sixel:
        return Choice("sixel", reason=f"tmux {tmux.version} draws Sixel itself", **base)
    if caps.sixel and tmux is None:
        return Choice("sixel", reason=f"{caps.name or 'the terminal'} answers with Sixel", **base)
    if caps.sixel and tmux is not None:
        # tmux passes the picture on; a redraw of tmux's own (a resize, attaching) erases it
        # until the pane's next change draws it again
        return Choice("sixel", tmux_wrap=True, reason=f"Sixel through tmux {tmux.version}'s passthrough", **base)
    if caps.kitty_graphics and tmux is None:
        return Choice("kitty", reason="kitty graphics without placeholders: placed directly", **base)
    if caps.kitty_graphics:
        return Choice("halfcell", note=_no_placeholders(caps), reason="kitty graphics without placeholders", **base)
    reason = "no graphics protocol answered" if caps.answered else "the terminal did not answer"
    return Choice("halfcell", reason=reason, **base)


def _no_placeholders(caps: Caps) -> str:
    who = f"{caps.name} {caps.version}".strip() or "This terminal"
    return f"Pictures as half-blocks: {who} speaks kitty graphics but not the placeholders (kitty 0.28+) tmux needs."


# -- remembered per terminal -------------------------------------------------------------------


def terminal_key(env: dict[str, str]) -> str:
    """Which terminal this is, from what is known before asking it anything."""
    parts = [
        env.get("TERM", ""),
        env.get("TERM_PROGRAM", ""),
        env.get("TERM_PROGRAM_VERSION", ""),
        "kitty" if env.get("KITTY_WINDOW_ID") else "",
        "wezterm" if env.get("WEZTERM_PANE") else "",
        "vte" + env["VTE_VERSION"] if env.get("VTE_VERSION") else "",
        "tmux" if env.get("TMUX") else "",
        "ssh" if env.get("SSH_TTY") or env.get("SSH_CONNECTION") else "",
    ]
    return "|".join(parts)


def load_cached(path: Path, env: dict[str, str]) -> Caps | None:
    import json

    try:
        entry: dict[str, Any] = json.loads(path.read_text())[terminal_key(env)]
        held: dict[str, Any] | None = entry.pop("tmux", None)
        tmux = (
            replace(Tmux(**held), features=tuple(held.get("features", ())), offset=tuple(held.get("offset", (0, 0))))
            if held
            else None
        )
        entry["cell"] = tuple(entry["cell"]) if entry.get("cell") else None
        return replace(Caps(**entry), tmux=tmux, from_cache=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_cached(path: Path, env: dict[str, str], caps: Caps) -> None:
    """Best effort: a read-only cache only means asking again next time."""
    import json

    try:
        known = json.loads(path.read_text()) if path.exists() else {}
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}
    entry = asdict(replace(caps, from_cache=False))
    known[terminal_key(env)] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(known, indent=1))
        scratch.replace(path)
    except OSError:
        pass


# -- tmux ----------------------------------------------------------------------------------------

_TMUX_FORMAT = "#{version}\t#{client_termfeatures}\t#{client_termtype}\t#{pane_left}\t#{pane_top}\t#{pane_title}"


def ask_tmux(env: dict[str, str], *, timeout: float = 2.0) -> Tmux | None:
    """tmux's version, features and passthrough setting, from tmux itself (blocking: a thread)."""
    import shutil
    import subprocess

    if not env.get("TMUX") or shutil.which("tmux") is None:
        return None
    try:
        shown = subprocess.run(
            ["tmux", "display-message", "-p", _TMUX_FORMAT], capture_output=True, text=True, timeout=timeout, env=env
        ).stdout.rstrip("\n")
        passthrough = subprocess.run(
            ["tmux", "show-options", "-gqv", "allow-passthrough"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return Tmux()
    version, features, outer, left, top, title = [*shown.split("\t", 5), "", "", "", "", ""][:6]
    return Tmux(
        version=version,
        passthrough=passthrough in ("on", "all"),
        features=tuple(f for f in features.split(",") if f),
        outer=outer,
        title=title,
        offset=(int(left), int(top)) if left.isdigit() and top.isdigit() else (0, 0),
    )


def restore_tmux_title(env: dict[str, str], title: str) -> None:
    """Put the pane title back as it was before mj-tui ran (blocking)."""
    import shutil
    import subprocess

    if not env.get("TMUX") or shutil.which("tmux") is None:
        return
    try:
        pane = env.get("TMUX_PANE")
        target = ["-t", pane] if pane else []
        subprocess.run(["tmux", "select-pane", *target, "-T", title], capture_output=True, timeout=2.0, env=env)
    except (OSError, subprocess.SubprocessError):
        pass


# -- asking on a raw tty (mj-tui doctor, before any UI) -----------------------------------------


def ask_tty(fd: int, text: str, sentinels: int, timeout: float = 1.0) -> Answers:
    """Write `text` to the tty `fd` in raw mode and collect the answers (blocking)."""
    import select
    import termios
    import time
    import tty

    saved = termios.tcgetattr(fd)
    collector = AnswerCollector(sentinels)
    try:
        tty.setraw(fd, termios.TCSANOW)
        os.write(fd, text.encode())
        deadline = time.monotonic() + timeout
        while not collector.done and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                collector.feed(os.read(fd, 4096).decode("utf-8", "replace"))
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    return collector.answers


def winsize(fd: int) -> tuple[int, int, int, int] | None:
    """(cols, rows, xpixel, ypixel) the kernel holds for the tty (no bytes written)."""
    import fcntl
    import struct
    import termios

    try:
        rows, cols, xpix, ypix = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    return cols, rows, xpix, ypix


def describe(caps: Caps, choice: Choice) -> list[str]:
    """What was found and chosen, as lines for people (doctor, help)."""
    import locale

    lines = [
        f"terminal      {caps.name or 'unknown'} {caps.version}".rstrip(),
        f"XTVERSION     {caps.xtversion or '(no answer)'}",
        f"kitty graphics {'yes' if caps.kitty_graphics else 'no'}   Sixel {'yes' if caps.sixel else 'no'}",
        f"cell size     {f'{caps.cell[0]}x{caps.cell[1]} px' if caps.cell else 'unknown'}",
        f"colours       {'true colour' if caps.truecolor else '256'}",
        f"encoding      {'UTF-8' if caps.utf8 else 'not UTF-8: ASCII borders and icons'} "
        f"({locale.getpreferredencoding(False)})",
    ]
    if caps.tmux is not None:
        t = caps.tmux
        lines.append(
            f"tmux          {t.version or '?'}, passthrough {'on' if t.passthrough else 'off'}, "
            f"features {','.join(t.features) or '-'}"
        )
    lines.append(f"renderer      {choice.renderer}" + (" (wrapped for tmux)" if choice.tmux_wrap else ""))
    lines.append(f"why           {choice.reason}")
    if choice.note:
        lines.append(f"note          {choice.note}")
    if caps.from_cache:
        lines.append("source        remembered from an earlier start")
    elif not caps.answered:
        lines.append("source        the terminal did not answer")
    return lines


@dataclass
class Detection:
    """One detection: the capabilities, what was chosen, where it came from."""

    caps: Caps
    choice: Choice
    lines: list[str] = field(default_factory=list)
