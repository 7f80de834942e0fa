"""Test-wide isolation: no test reads the developer's config, data, cache or key."""

from __future__ import annotations

import os

import httpx
import keyring
import keyring.backend
import keyring.backends.null
import keyring.errors
import pytest

# The CLI tests start dozens of `python -m mj_tui` processes, and the workers import the
# whole app: with bytecode caching off (as on some machines) each of them compiles mj_tui
# again. Caching on, the first one writes __pycache__ (ignored by git) and the rest load it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


class MemoryKeyring(keyring.backend.KeyringBackend):
    # negative priority: keyring registers every subclass and must never auto-pick this one
    priority = -100

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        try:
            del self.store[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MJ_TUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("MJ_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MJ_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MJ_TUI_API_KEY", raising=False)
    # subprocesses (CLI tests) must never reach a real keyring either
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.null.Keyring())
    yield tmp_path
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring():
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def control(emulator):
    """The emulator's test-control routes (clock, faults, accounts, config, state).

    Reset before and after (faults dropped, request counts zeroed, the clock running), and
    whatever config the test tuned put back, so the next test on this emulator starts clean.
    `emulator` is the URL of the folder's emulator (tests/core, tests/ui: their conftest).
    """
    with httpx.Client(base_url=emulator, timeout=10) as client:
        client.post("/_emulator/reset")
        tuned = client.post("/_emulator/config", json={}).json()  # an empty change reads it
        yield client
        client.post("/_emulator/reset")
        now = client.post("/_emulator/config", json={}).json()
        changed = {name: value for name, value in tuned.items() if now[name] != value}
        if changed:
            client.post("/_emulator/config", json=changed)
