"""The TUI on a real pseudo-terminal that answers as a recorded terminal would: the questions
go out after the first frame, the answers never turn into key presses, the choice is
remembered, and `mj-tui doctor` says the same."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from mj_tui.core import terminal_caps as tc

ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=$ ]*[ -/]*[@-~]|\x1b[PX^_].*?\x1b\\|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78cM]"
)
KITTY_026 = {
    b"\x1b[>0q": b"\x1bP>|kitty(0.26.5)\x1b\\",
    b"a=q": f"\x1b_Gi={tc.KITTY_QUERY_ID};OK\x1b\\".encode(),
    b"\x1b[16t": b"\x1b[6;19;8t",
    b"\x1b[c": b"\x1b[?62;c",
}


class Terminal:
    """A child on a pty; answers its questions from `answers` as they come."""

    def __init__(self, argv: list[str], env: dict[str, str], answers: dict[bytes, bytes]) -> None:
        self.fd, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.answers = answers
        self.out = bytearray()
        self.asked_at: int | None = None  # where in the output the first question was

    def read_until(self, done, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < end, f"timed out; screen: {self.screen()[-600:]!r}"
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            self.out += chunk
            for question, answer in self.answers.items():
                if question in chunk:
                    if self.asked_at is None:
                        self.asked_at = len(self.out) - len(chunk) + chunk.index(question)
                    os.write(self.fd, answer)

    def screen(self) -> str:
        return ANSI.sub(b"", bytes(self.out)).decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.fd)


def env_for(tmp_path: Path) -> dict[str, str]:
    # (COLUMNS and LINES would override the pty's own size)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "KITTY", "TERM_PROGRAM", "COLUMNS", "LINES"))
    }
    env.update(TERM="xterm-kitty", MJ_TUI_CACHE_DIR=str(tmp_path / "cache"), LANG="C.UTF-8")
    return env


def test_the_tui_asks_after_its_first_frame_and_remembers(tmp_path):
    term = Terminal([sys.executable, "-m", "mj_tui", "--demo"], env_for(tmp_path), KITTY_026)
    cache = tmp_path / "cache" / tc.CACHE_FILE
    try:
        term.read_until(lambda: cache.exists() and term.asked_at is not None)
        first_frame = bytes(term.out).find(b"Tasks")
        assert 0 <= first_frame < term.asked_at  # the panes were drawn before anything was asked
        entry = next(iter(json.loads(cache.read_text()).values()))
        assert (entry["name"], entry["version"], entry["kitty_graphics"], entry["cell"]) == (
            "kitty",
            "0.26.5",
            True,
            [8, 19],
        )
        os.write(term.fd, b"a red fox")  # typed after the answers: the prompt holds exactly it
        term.read_until(lambda: "a red fox" in term.screen())
        assert "kitty(0.26.5)" not in term.screen() and ";OK" not in term.screen()
    finally:
        term.close()


def test_doctor_says_what_the_terminal_answered(tmp_path):
    term = Terminal([sys.executable, "-m", "mj_tui", "doctor"], env_for(tmp_path), KITTY_026)
    try:
        term.read_until(lambda: term.proc.poll() is not None and "renderer" in term.screen())
        text = term.screen()
        assert re.search(r"terminal\s+kitty 0\.26\.5", text) and re.search(r"renderer\s+kitty", text)
        assert "8x19 px" in text and "placed directly" in text
        assert (tmp_path / "cache" / tc.CACHE_FILE).exists()  # the TUI's next start knows at once
    finally:
        term.close()


def test_a_terminal_in_the_c_locale_gets_ascii_only(tmp_path):
    env = dict(env_for(tmp_path), LANG="C", LC_ALL="")
    env.pop("LC_ALL")
    env.pop("LC_CTYPE", None)
    term = Terminal([sys.executable, "-m", "mj_tui", "--demo"], env, KITTY_026)
    try:
        term.read_until(lambda: "page 1 of" in term.screen() and "Tasks" in term.screen())
        assert bytes(term.out).isascii()  # borders, icons, bars: all ASCII look-alikes
        assert "+- Tasks -" in term.screen()
    finally:
        term.close()


def test_an_explicit_renderer_the_terminal_cannot_draw_falls_back_with_a_word(tmp_path):
    argv = [sys.executable, "-m", "mj_tui", "--demo", "--graphics", "sixel"]
    term = Terminal(argv, env_for(tmp_path), KITTY_026)
    try:
        term.read_until(lambda: "does not draw" in term.screen())  # the toast says why
        assert "--graphics sixel" in term.screen()
    finally:
        term.close()


def test_the_terminal_hanging_up_ends_the_app(tmp_path):
    """An SSH link dropped or a window closed: the terminal is gone and nobody can answer a
    question, so the app ends (exit 129, as after SIGHUP) rather than living on unseen."""
    term = Terminal([sys.executable, "-m", "mj_tui", "--demo"], env_for(tmp_path), KITTY_026)
    try:
        term.read_until(lambda: "Task keys" in term.screen())
        os.close(term.fd)  # the terminal's side closes: reads there end (EIO)
        assert term.proc.wait(timeout=20) == 129
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
            term.proc.wait()


def _loaded(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_ctrl_c_while_it_loads_says_interrupted_not_a_traceback(tmp_path):
    """ctrl+c before the first frame (the terminal still sends it as SIGINT then), at moments
    of the CLI loading: never a traceback. (Earlier than the CLI, while Python itself starts,
    is Python's own business.)"""
    import signal

    for library, delay in (("_json", 0.0), ("_json", 0.01), ("termios", 0.0), ("_sqlite3", 0.0)):
        term = Terminal([sys.executable, "-m", "mj_tui", "--demo"], env_for(tmp_path), KITTY_026)
        try:
            end = time.monotonic() + 20
            while not _loaded(term.proc.pid, library) and time.monotonic() < end:
                time.sleep(0.001)
            time.sleep(delay)
            term.proc.send_signal(signal.SIGINT)
            term.read_until(lambda term=term: term.proc.poll() is not None, timeout=20)
            code = term.proc.wait(timeout=20)
            text = term.screen()
            # (-2, killed by SIGINT, which a shell shows as 130 too: CPython ends that way when
            # the interrupt came inside code run by exec(), as dataclasses' is, even if caught)
            assert "Traceback" not in text and code in (130, -signal.SIGINT), (library, delay, code, text[-400:])
            assert "mj-tui: interrupted" in text
        finally:
            term.close()
