"""Startup, memory and terminal traffic, measured on a real pseudo-terminal.

Each run starts a process on a fresh pty, reads everything it writes, and
stops the clock when the expected text is on screen:
- floor:  a bare Textual app that imports textual-image and draws one line;
- mj-tui: `mj-tui --demo --provider mjproxy` with 10,000 tasks in its local history,
  until the task list's "page 1 of" line is drawn.

textual-image asks the terminal three questions at import (kitty graphics?
Sixel? cell size?) and waits up to 100 ms for each answer.  A bare pty answers
none, so both programs pay 3 × 100 ms; a real terminal answers at once.  The
startup figures are therefore taken twice: on a silent pty, and on one that
answers like kitty (``answer=True``), where the fixed cost of mj-tui's own
work weighs more in the ratio.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .common import Report, verdict

ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=$ ]*[ -/]*[@-~]|\x1b[PX^_].*?\x1b\\|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78cM]"
)
ROOT = Path(__file__).resolve().parent.parent
RUNS = 11  # this box's startup times spread by ±25% from run to run (a shared VM): medians of many


@dataclass
class PtyRun:
    proc: subprocess.Popen
    fd: int
    started: float
    output: bytearray = field(default_factory=bytearray)
    answer: bool = False  # reply to terminal queries as kitty would

    def _answer(self, chunk: bytes) -> None:
        if not self.answer:
            return
        for image_id in re.findall(rb"\x1b_Gi=(\d+)[^\x1b]*a=q", chunk):  # kitty graphics query
            self.send(b"\x1b_Gi=" + image_id + b";OK\x1b\\")
        if b"\x1b[c" in chunk:  # primary device attributes (no Sixel)
            self.send(b"\x1b[?62;22c")
        if b"\x1b[16t" in chunk:  # cell size in pixels
            self.send(b"\x1b[6;20;10t")

    def pump(self, seconds: float) -> int:
        """Read for `seconds`; return the bytes read."""
        end = time.perf_counter() + seconds
        got = 0
        while (left := end - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                got += len(chunk)
                self.output += chunk
                self._answer(chunk)
        return got

    def wait_for(self, text: bytes, timeout: float = 30.0) -> float:
        """Seconds from process start until `text` appears on screen."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                self.output += chunk
                self._answer(chunk)
                if text in ANSI.sub(b"", bytes(self.output[-200_000:])):
                    return time.perf_counter() - self.started
        raise TimeoutError(f"{text!r} never appeared; last output: {ANSI.sub(b'', bytes(self.output[-400:]))!r}")

    def peak_rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(r"VmHWM:\s+(\d+)", status)
        assert found is not None, "no VmHWM line in /proc/<pid>/status"
        return int(found.group(1))

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def stop(self) -> None:
        try:
            self.send(b"\x11")  # ctrl+q
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        os.close(self.fd)


def start(argv: list[str], env: dict[str, str], cols: int = 120, rows: int = 40, answer: bool = False) -> PtyRun:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, cwd=ROOT)
    os.close(slave)
    return PtyRun(proc, master, started, answer=answer)


def demo_env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "MJ_TUI_DEMO_DIR": str(scratch),
            "MJ_TUI_CONFIG": str(scratch / "none.toml"),
        }
    )
    env.pop("MJ_TUI_API_KEY", None)
    # an installed program runs from cached bytecode; a box that forbids writing it
    # would make every start compile mj-tui's own modules (~80 ms) but not the
    # floor's (site-packages are compiled at install time)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def prefill(scratch: Path, count: int) -> None:
    from mj_tui.core.history import History
    from mj_tui.core.models import Button, Mode, ProviderKind, Status, Task
    from mj_tui.launch import DEMO_BASE_URL

    history = History(scratch / "data" / "history.sqlite3")
    namespace = f"demo|mjproxy|{DEMO_BASE_URL}"
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    buttons = tuple(Button(f"MJ::JOB::upsample::{i}::h", f"U{i}") for i in range(1, 5))
    batch = []
    for i in range(count):
        batch.append(
            Task(
                id=str(1_700_000_000_000_000 + i),
                provider=ProviderKind.MJPROXY,
                status=Status.SUCCESS,
                progress=100,
                prompt=f"history task {i}, watercolor --ar 3:2",
                mode=Mode.FAST,
                submit_time=t0 + timedelta(seconds=i),
                buttons=buttons,
            )
        )
        if len(batch) == 5000:
            history.upsert(namespace, batch)
            batch = []
    history.upsert(namespace, batch)
    history.close()


def run() -> Report:
    report = Report("Terminal: startup, memory, bytes written (pty 120x40)")
    floor_argv = [sys.executable, str(ROOT / "benchmarks" / "floor_app.py")]
    app_argv = [sys.executable, "-m", "mj_tui", "--demo", "--provider", "mjproxy"]
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        prefill(scratch, 10_000)
        env = demo_env(scratch)
        for argv, ready in ((floor_argv, b"floor ready"), (app_argv, b"page 1 of")):  # warm: bytecode, disk cache
            warm = start(argv, env)
            warm.wait_for(ready)
            warm.stop()
        for answer, where in ((False, "silent pty"), (True, "answering pty")):
            floor_times, app_times, floor_mem, app_mem = [], [], [], []
            for _ in range(RUNS):  # alternate, so both see the same machine state
                floor = start(floor_argv, env, answer=answer)
                floor_times.append(floor.wait_for(b"floor ready"))
                floor_mem.append(floor.peak_rss_kib())
                floor.stop()
                app = start(app_argv, env, answer=answer)
                app_times.append(app.wait_for(b"page 1 of"))
                app_mem.append(app.peak_rss_kib())
                app.stop()
            f_t, a_t = statistics.median(floor_times), statistics.median(app_times)
            f_m, a_m = statistics.median(floor_mem), statistics.median(app_mem)
            report.add(
                f"first frame, floor, {where} (median of {RUNS})",
                f"{f_t * 1000:.0f} ms",
                f"range {min(floor_times) * 1000:.0f}–{max(floor_times) * 1000:.0f} ms",
            )
            report.add(
                f"first frame, mj-tui --demo, 10k history, {where}",
                f"{a_t * 1000:.0f} ms",
                f"ratio {a_t / f_t:.2f} (budget 1.3); range {min(app_times) * 1000:.0f}–{max(app_times) * 1000:.0f} ms",
                verdict(a_t / f_t <= 1.3),
            )
            report.add(f"peak RSS at first frame, floor, {where}", f"{f_m / 1024:.1f} MiB")
            report.add(
                f"peak RSS at first frame, mj-tui, {where}",
                f"{a_m / 1024:.1f} MiB",
                f"ratio {a_m / f_m:.2f} (budget 1.5)",
                verdict(a_m / f_m <= 1.5),
            )

        # traffic: idle for 10 s after settling, then one demo job from submit to done
        app = start(app_argv, env)
        app.wait_for(b"page 1 of")
        app.pump(3.0)
        idle = app.pump(10.0)
        report.add("bytes/s written while idle", f"{idle / 10:.0f} B/s", "budget ≈ 0", verdict(idle / 10 < 50))
        app.send(b"a lighthouse in fog")
        app.pump(0.5)
        app.send(b"\x0a")  # ctrl+j submits
        # a demo job takes ~6 s and the poller ticks every second: one progress redraw per
        # 1-s window while it runs, then the finished picture (half-cell blocks here)
        windows = [app.pump(1.0) for _ in range(9)]
        # the first window also holds the submit (box cleared, a new row, a toast); the
        # largest is the picture; idle windows after it are empty
        updates = sorted(w for w in windows[1:] if w > 0)[:-1] or [0]
        report.add(
            "bytes per progress update (1-s window, job running)",
            f"{statistics.median(updates):.0f} B",
            "one list row, the preview's bar",
        )
        report.add(
            "bytes in the window the finished picture arrives",
            f"{max(windows):,} B",
            f"120x40 half-cell picture; job total {sum(windows):,} B",
        )
        app.stop()
    return report


if __name__ == "__main__":
    run().print()
