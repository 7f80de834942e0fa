"""Pictures in real terminals, under Xvfb: is one shown, and what does it cost on the wire?

For each terminal, `mj-tui --demo` runs inside `script` (which logs every byte the app
writes), xdotool types a prompt and sends it, and once the grid is in the preview:
- a screenshot (ImageMagick's `import`) is compared with one taken before the job: the
  preview's area holds many colours when a picture is drawn, a handful when it is text;
- the picture bytes sent for it are counted (Sixel's DCS ... q, kitty's APC G, either
  inside tmux's passthrough), then again after a focus change (esc, then tab) and after
  a toast over the picture (y copies the URL and says so) has come and gone;
- a second screenshot after the toast shows whether the picture survived it whole;
- inside tmux, the pane's title after mj-tui quit shows whether anything leaked into it.
Then, in xterm and kitty, a second start with tasks in the store: its first frame, written
before Textual is imported, is screenshot (the app stopped right then) and its task list
compared pixel for pixel with the main screen's.

Needs Xvfb, xterm, kitty, tmux, xdotool, ImageMagick (see the development section of the
README). Not run by CI. `python -m benchmarks.terminals_xvfb [xterm kitty tmux tmux-passthrough
tmux-in-kitty]` (tmux: inside xterm, allow-passthrough off, then on; and on, inside kitty);
screenshots and logs go to --out (default: a temporary folder, printed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import Report
from .terminal import ANSI, READY, ROOT, TEXTUAL_STARTED, prefill

DISPLAY = ":77"
SIXEL = re.compile(rb"\x1bP[0-9;]*q.*?\x1b\\", re.S)
KITTY = re.compile(rb"\x1b_G[^\x1b]*\x1b\\")
WRAPPED = re.compile(rb"\x1bPtmux;(?:[^\x1b]|\x1b\x1b)*\x1b\\")
XTERM = ["xterm", "-ti", "vt340", "-geometry", "120x40", "-fa", "DejaVu Sans Mono", "-fs", "11"]


def picture_bytes(log: bytes) -> int:
    """Bytes of picture payloads (a kitty query or placement is tiny and counts too); what
    went through tmux's passthrough counts once, wrapping included."""
    wrapped = [m.group() for m in WRAPPED.finditer(log)]
    rest = WRAPPED.sub(b"", log)
    total = sum(len(w) for w in wrapped if b"\x1b\x1b_G" in w or b"q" in w[:40])
    total += sum(len(m.group()) for m in SIXEL.finditer(rest))
    total += sum(len(m.group()) for m in KITTY.finditer(rest))
    return total


def buckets(png: Path, box: tuple[float, float, float, float] = (0.5, 0.08, 0.98, 0.8)) -> int:
    """Colour buckets (8 levels a channel) covering 0.2% or more of the box: a picture has
    dozens, text on a plain background a handful."""
    from PIL import Image

    image = Image.open(png).convert("RGB")
    w, h = image.size
    crop = image.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
    counts: dict[tuple[int, int, int], int] = {}
    for n, colour in crop.getcolors(maxcolors=1 << 24) or []:
        r, g, b = colour  # type: ignore[misc]  # an RGB image: (r, g, b) tuples
        key = (r >> 5, g >> 5, b >> 5)
        counts[key] = counts.get(key, 0) + n
    least = crop.width * crop.height * 0.002
    return sum(1 for n in counts.values() if n >= least)


def sh(*argv: str, check: bool = False, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=check)
    return done.stdout.strip()


class Session:
    def __init__(self, name: str, out: Path) -> None:
        self.name = name
        self.out = out
        self.log = out / f"{name}.log"
        self.scratch = Path(tempfile.mkdtemp(prefix=f"mj-xvfb-{name}-"))
        self.socket = f"mjxvfb{os.getpid()}"
        self.env = dict(os.environ, DISPLAY=DISPLAY, LIBGL_ALWAYS_SOFTWARE="1", LANG="C.UTF-8")
        self.env.update(
            {
                "MJ_TUI_CONFIG": str(self.scratch / "none.toml"),
                "MJ_TUI_CACHE_DIR": str(self.scratch / "cache"),
                "MJ_TUI_DATA_DIR": str(self.scratch / "data"),
            }
        )
        for name_ in ("TMUX", "TMUX_PANE", "KITTY_WINDOW_ID", "TERM_PROGRAM", "COLORTERM"):
            self.env.pop(name_, None)
        self.proc: subprocess.Popen | None = None

    def app_command(self) -> list[str]:
        app = shlex.join([sys.executable, "-m", "mj_tui", "--demo", "--provider", "mjproxy"])
        return ["script", "-q", "-f", "-c", f"cd {shlex.quote(str(ROOT))} && {app}", str(self.log)]

    def command(self) -> list[str]:
        inner = self.app_command()
        if self.name == "xterm":
            return [*XTERM, "-e", *inner]
        if self.name == "kitty":
            return ["kitty", "-o", "initial_window_width=1200", "-o", "initial_window_height=760", *inner]
        conf = self.scratch / "tmux.conf"
        passthrough = "on" if self.name in ("tmux-passthrough", "tmux-in-kitty") else "off"
        conf.write_text(
            f"set -g allow-passthrough {passthrough}\nset -g remain-on-exit on\nset -g default-terminal tmux-256color\n"
            "set -as terminal-features ',xterm*:RGB'\nset -g status off\nset -sg escape-time 10\n"
        )
        tmux = ["tmux", "-L", self.socket, "-f", str(conf), "new-session", "-s", "mj", shlex.join(inner)]
        if self.name == "tmux-in-kitty":
            return ["kitty", "-o", "initial_window_width=1200", "-o", "initial_window_height=760", *tmux]
        return [*XTERM, "-e", *tmux]

    def start(self) -> None:
        self.log.unlink(missing_ok=True)
        self.proc = subprocess.Popen(self.command(), env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def text(self) -> bytes:
        try:
            return ANSI.sub(b"", self.log.read_bytes())
        except OSError:
            return b""

    def raw(self) -> bytes:
        try:
            return self.log.read_bytes()
        except OSError:
            return b""

    def wait_for(self, needle: bytes, timeout: float = 60) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.text():
                return True
            time.sleep(0.2)
        return False

    def settle(self, quiet: float = 1.5, timeout: float = 30) -> None:
        """Wait until the app has written nothing for `quiet` seconds."""
        end = time.monotonic() + timeout
        size, since = -1, time.monotonic()
        while time.monotonic() < end:
            now = len(self.raw())
            if now != size:
                size, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.1)

    def window(self) -> str:
        wanted = "kitty" if "kitty" in self.name else "xterm"
        for _ in range(50):
            for how in ("--classname", "--class", "--name"):
                found = sh("xdotool", "search", "--onlyvisible", how, wanted, env=self.env).split()
                if found:
                    return found[-1]
            time.sleep(0.2)
        raise RuntimeError(f"no {wanted} window")

    def keys(self, *keys: str, text: str | None = None) -> None:
        window = self.window()
        sh("xdotool", "windowfocus", "--sync", window, env=self.env)
        if text:
            sh("xdotool", "type", "--delay", "30", text, env=self.env)
        if keys:
            sh("xdotool", "key", "--delay", "80", *keys, env=self.env)

    def shot(self, label: str) -> Path:
        path = self.out / f"{self.name}-{label}.png"
        sh("import", "-display", DISPLAY, "-window", "root", str(path), env=self.env)
        return path

    def stop(self) -> str:
        """Quit mj-tui (the demo asks once), and return tmux's pane title afterwards."""
        title = ""
        self.keys("ctrl+q")
        time.sleep(0.5)
        if self.proc is not None and self.proc.poll() is None:  # (it asks only with work out)
            with contextlib.suppress(RuntimeError):  # its window closed meanwhile: gone
                self.keys("ctrl+q")
        time.sleep(1.0)
        if self.name.startswith("tmux"):
            title = sh("tmux", "-L", self.socket, "display-message", "-p", "-t", "mj", "#{pane_title}")
            sh("tmux", "-L", self.socket, "kill-server")
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        # `script` can outlive its terminal (stopped, even): killed, it hangs up on mj-tui,
        # which then ends too
        sh("pkill", "-KILL", "-f", "--", f"script -q -f -c .* {self.log}")
        shutil.rmtree(self.scratch, ignore_errors=True)
        return title


def run_one(name: str, out: Path, report: Report) -> None:
    session = Session(name, out)
    session.start()
    try:
        if not session.wait_for(b"page 1 of"):
            report.add(f"{name}: started", "no", "the task list never appeared")
            return
        session.settle()
        text_only = buckets(session.shot("0-text"))
        session.keys(text="a lighthouse in fog")
        session.keys("ctrl+j")
        if not session.wait_for(b"1-4 zoom", timeout=60):
            report.add(f"{name}: grid finished", "no")
            return
        time.sleep(1.5)
        session.shot("1a-under-the-submit-toast")
        time.sleep(8)  # the submit's toast times out (a Sixel picture is sent again then)
        session.settle()
        first = picture_bytes(session.raw())
        shot = session.shot("1-picture")
        shown = buckets(shot)
        costs = {}
        for label, keys, wait in (
            ("focus change (prompt to list)", ("Escape",), 0.0),
            ("focus change (list to prompt)", ("n",), 0.0),
            ("toast over the picture", ("Escape", "y"), 9.0),  # y copies the URL and says so
            ("palette opened and closed", ("ctrl+p", "Escape"), 1.0),
        ):
            before = picture_bytes(session.raw())
            for key in keys:  # one by one: esc and a key close together read as alt+key
                session.keys(key)
                time.sleep(0.4)
            time.sleep(wait)
            session.settle()
            costs[label] = picture_bytes(session.raw()) - before
        after = buckets(session.shot("2-after-toast"))
        raw = session.raw()
        plain = raw.replace(b"\x1b\x1b", b"\x1b")  # tmux's passthrough unwrapped
        if b"U=1" in plain:
            kind = "kitty placeholders"
        elif re.search(rb"\x1b_Ga=p,i=\d+,p=1", plain):
            kind = "kitty, placed directly"
        elif SIXEL.search(plain):
            kind = "Sixel"
        elif "▀".encode() in raw:
            kind = "half-blocks"
        else:
            kind = "none"
        title = session.stop()
        report.add(f"{name}: renderer seen on the wire", kind)
        report.add(
            f"{name}: picture on screen",
            "yes" if shown > text_only + 8 else "NO",
            f"colour buckets {shown} vs {text_only} text-only",
        )
        report.add(
            f"{name}: picture after a toast",
            "whole" if after >= shown - 3 else "DAMAGED",
            f"colour buckets {after} vs {shown}",
        )
        report.add(
            f"{name}: picture bytes, first showing",
            f"{first:,} B",
            "with the graphics query; Sixel: twice (under the submit's toast, again when it goes)",
        )
        for label, cost in costs.items():
            report.add(f"{name}: picture bytes, {label}", f"{cost:,} B")
        report.add(f"{name}: bytes written in all", f"{len(raw):,} B")
        if name.startswith("tmux"):
            report.add(f"{name}: pane title after exit", repr(title)[:60])
    finally:
        if session.proc is not None and session.proc.poll() is None:
            session.stop()


# put on the second start's PYTHONPATH: Python runs it at start-up, and it holds the first
# import of Textual for a while, so the frame written before it stays long enough to screenshot
HOLD_TEXTUAL = """
import sys, time

class HoldTextual:
    def find_spec(self, name, path=None, target=None):
        if name == "textual":
            sys.meta_path.remove(self)
            time.sleep(3)
        return None

sys.meta_path.insert(0, HoldTextual())
"""


def early_one(name: str, out: Path, report: Report) -> None:
    """The second start in a terminal, with 30 tasks in the store: its first frame is written
    before Textual is imported (mj_tui/ui/early_frame.py). That import is held back 3 s
    (HOLD_TEXTUAL) to screenshot the frame; once the main screen is up, the task list's
    pane (which the main screen draws the same) is compared pixel for pixel."""
    session = Session(name, out)
    session.log = out / f"{name}-early.log"
    demo = session.scratch / "demo"
    prefill(demo, 30)
    session.env["MJ_TUI_DEMO_DIR"] = str(demo)
    hold = session.scratch / "hold"
    hold.mkdir()
    (hold / "sitecustomize.py").write_text(HOLD_TEXTUAL)
    try:
        session.start()  # the first start keeps the colours once its main screen is up
        session.wait_for(READY)
        session.settle(1.0)
        session.keys("ctrl+q")
        assert session.proc is not None
        session.proc.wait(timeout=20)
        kept = (session.scratch / "cache" / "first-frame.json").exists()
        session.env["PYTHONPATH"] = str(hold)
        session.start()
        session.wait_for(b"page 1 of", timeout=30)
        time.sleep(1.0)
        before_textual = TEXTUAL_STARTED not in session.raw()
        early = session.shot("early-1-first-frame")
        session.wait_for(READY)
        session.settle(1.0)
        main = session.shot("early-2-main-screen")
        box = _list_pane(session)
        report.add(
            f"{name}: second start, first frame written before Textual",
            "yes" if kept and before_textual else "NO",
            f"colours kept by the first start: {'yes' if kept else 'no'}",
        )
        report.add(f"{name}: that frame against the main screen, task list pane", _same_pixels(early, main, box))
    finally:
        if session.proc is not None and session.proc.poll() is None:
            session.stop()


def _list_pane(session: Session) -> tuple[int, int, int, int]:
    """The task list's pane on screen, in pixels: the left half of 120x40 cells below the
    header, down to the prompt box (40 rows: header 1, list 31, prompt box 7, footer 1)."""
    found = dict(
        line.split("=", 1)
        for line in sh("xdotool", "getwindowgeometry", "--shell", session.window(), env=session.env).splitlines()
        if "=" in line
    )
    x, y, width, height = (int(found[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
    cell_w, cell_h = width / 120, height / 40
    return (x, int(y + cell_h), int(x + 60 * cell_w), int(y + 32 * cell_h) - 4)  # (kitty: a margin)


def _same_pixels(first: Path, second: Path, box: tuple[int, int, int, int]) -> str:
    from PIL import Image, ImageChops

    a, b = (Image.open(path).convert("RGB").crop(box) for path in (first, second))
    changed = ImageChops.difference(a, b).getbbox()
    return "same pixels" if changed is None else f"DIFFERENT in {changed}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("terminals", nargs="*", default=["xterm", "kitty", "tmux", "tmux-passthrough", "tmux-in-kitty"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="mj-xvfb-"))
    out.mkdir(parents=True, exist_ok=True)
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1280x900x24"], stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        report = Report(f"Real terminals under Xvfb (screenshots and logs in {out})")
        for name in args.terminals:
            run_one(name, out, report)
        for name in args.terminals:
            if name in ("xterm", "kitty"):
                early_one(name, out, report)
        report.print()
    finally:
        xvfb.terminate()
        xvfb.wait()


if __name__ == "__main__":
    main()
