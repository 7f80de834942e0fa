"""Copy to the clipboard over SSH and tmux, and open a browser only where one can show.

Copy is OSC 52: the terminal the person looks at sets its clipboard, however many
SSH hops away.  Inside tmux a bare OSC 52 only arrives with ``set -g set-clipboard
on``; wrapped in a DCS passthrough it arrives with ``set -g allow-passthrough on``.
Both are sent (the second copy of the same text is harmless), and the text is also
written to a file, since no terminal confirms that it took it.
"""

from __future__ import annotations

import base64
import os
import sys
import webbrowser
from pathlib import Path

TMUX_HINT = "tmux: set -g set-clipboard on"
# console browsers would take over this very terminal
CONSOLE_BROWSERS = {"www-browser", "lynx", "w3m", "links", "elinks", "browsh", "links2"}


def osc52(text: str) -> str:
    return f"\x1b]52;c;{base64.b64encode(text.encode('utf-8')).decode('ascii')}\a"


def tmux_passthrough(sequence: str) -> str:
    """Wrap an escape sequence so tmux hands it to the outer terminal (ESC doubled inside)."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def in_tmux() -> bool:
    return bool(os.environ.get("TMUX"))


def copy_text(app, text: str, fallback: Path | None) -> Path | None:
    """Send ``text`` to the terminal's clipboard; returns the fallback file written, if any."""
    app.copy_to_clipboard(text)  # plain OSC 52 (also kept as app.clipboard)
    driver = getattr(app, "_driver", None)
    if in_tmux() and driver is not None:
        driver.write(tmux_passthrough(osc52(text)))
    if fallback is None:
        return None
    try:
        fallback.parent.mkdir(parents=True, exist_ok=True)
        fallback.write_text(text + "\n", encoding="utf-8")
    except OSError:
        return None
    return fallback


def headless_reason() -> str | None:
    """Why a browser opened from here would not reach the person, or None if it would."""
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        return "this session runs over SSH (a browser would open on the remote machine)"
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return "there is no graphical display here ($DISPLAY is not set)"
    return None


def open_in_browser(url: str) -> str | None:
    """Open ``url`` in a graphical browser (blocking: call from a thread); None when it
    worked, else the reason it did not."""
    reason = headless_reason()
    if reason:
        return reason
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return "no web browser was found"
    name = getattr(browser, "name", "") or ""
    if Path(name).name in CONSOLE_BROWSERS:
        return f"the only browser found is a console one ({name})"
    try:
        if not browser.open(url):
            return "the browser did not start"
    except Exception as exc:  # a broken BROWSER setting, a missing binary...
        return f"the browser did not start ({type(exc).__name__})"
    return None
