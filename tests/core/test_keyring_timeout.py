"""A keyring backend that never answers: a clear message, and never a process held open."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import keyring
import keyring.backend
import pytest

from mj_tui.core import credentials
from mj_tui.core.errors import CredentialsError


class HangingKeyring(keyring.backend.KeyringBackend):
    """Like a Secret Service whose D-Bus never replies."""

    priority = -100  # never auto-selected

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service, username):
        self.release.wait()

    def set_password(self, service, username, password):
        self.release.wait()

    def delete_password(self, service, username):
        self.release.wait()


@pytest.fixture
def hanging(monkeypatch):
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.3)
    yield backend
    backend.release.set()  # let the abandoned threads end


def test_every_keyring_call_gives_up_with_a_clear_message(hanging):
    started = time.monotonic()
    resolved = credentials.get_key("p")
    assert resolved.key is None and "did not answer within" in resolved.problem
    assert "MJ_TUI_API_KEY" in resolved.problem
    with pytest.raises(CredentialsError, match="did not answer"):
        credentials.set_key("p", "sk-new")
    with pytest.raises(CredentialsError, match="did not answer"):
        credentials.delete_key("p")
    assert time.monotonic() - started < 3 * 0.3 + 2  # three calls, each bounded
    # the threads left waiting never keep the interpreter alive
    assert all(t.daemon for t in threading.enumerate() if t.name == "mj-tui-keyring")


HANGING_PROCESS = textwrap.dedent(
    """
    import threading
    import keyring, keyring.backend
    from mj_tui.core import credentials

    class Hanging(keyring.backend.KeyringBackend):
        priority = -100
        def get_password(self, service, username):
            threading.Event().wait()  # forever

        set_password = delete_password = get_password

    keyring.set_keyring(Hanging())
    credentials.KEYRING_TIMEOUT = 0.5
    print(credentials.get_key("default").problem, flush=True)
    """
)


def test_a_hanging_backend_never_holds_the_process_open():
    started = time.monotonic()
    # before: the worker thread was joined at exit, so this process never ended
    run = subprocess.run([sys.executable, "-c", HANGING_PROCESS], capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    assert "did not answer within" in run.stdout and "Traceback" not in run.stderr
    assert elapsed < 15, elapsed  # interpreter start + 0.5 s, not a wait on the hung thread
