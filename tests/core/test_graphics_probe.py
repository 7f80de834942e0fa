"""No terminal query from the image loader: the app asks later, through its driver.

The image loader (mj_tui/ui/graphics.py) runs in a child process on a real pseudo-terminal,
and every byte it writes there is read back: textual-image's queries (kitty graphics'
`ESC _ G ... a=q`, Sixel's `ESC [ c`, the cell size's `ESC [ 16 t`) must not be among them.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time

import pytest

QUERIES = (b"\x1b_G", b"\x1b[c", b"\x1b[16t", b"\x1b[14t")
LOADER = "from mj_tui.ui.graphics import load_graphics; print('chose', load_graphics({!r}).name, flush=True)"


def written_on_a_pty(choice: str) -> bytes:
    """Everything the loader writes to a silent 80x24 terminal (one that never answers)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # no pixel size
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL_CELL")}
    child = subprocess.Popen(
        [sys.executable, "-c", LOADER.format(choice)], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child is gone and the pty is drained
                break
            if not chunk:
                break
            out += chunk
    finally:
        child.wait(timeout=30)
        os.close(master)
    assert child.returncode == 0, out.decode(errors="replace")
    return bytes(out)


@pytest.mark.parametrize("choice", ["halfcell", "unicode", "tgp", "sixel", "none"])
def test_an_explicit_choice_asks_the_terminal_nothing(choice):
    out = written_on_a_pty(choice)
    assert f"chose {choice}".encode() in out
    assert not [q for q in QUERIES if q in out], out
    assert b"\x1b" not in out  # not a single escape sequence of any kind


def test_auto_asks_nothing_before_the_app_runs():
    # the app asks after its first frame, through its own driver (tests/ui/test_terminal_pty.py)
    out = written_on_a_pty("auto")
    assert b"chose halfcell" in out and b"\x1b" not in out
