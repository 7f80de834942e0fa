"""Where the API key comes from: ``MJ_TUI_API_KEY``, then the OS keyring.

The key is wrapped in :class:`Secret` as soon as it is read, so a stray
``print``/``repr``/log line shows ``Secret('****')`` rather than the key.
There is deliberately no plaintext-file fallback: a box without a usable
keyring gets a message naming the options instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NoReturn, TypeVar

from .errors import CredentialsError, NoKeyring

if TYPE_CHECKING:  # keyring loads on first use: it costs start-up time and may probe D-Bus
    from keyring.backend import KeyringBackend

T = TypeVar("T")

SERVICE = "mj-tui"
ENV_VAR = "MJ_TUI_API_KEY"
# a locked keyring can block on an unlock prompt nobody will see over SSH, and a
# backend can hang on a D-Bus that never answers: give up after this many seconds
KEYRING_TIMEOUT = 10.0

NO_KEYRING_HELP = (
    "No usable OS keyring was found (common on headless or SSH machines). "
    f"Either set the key for this shell with `export {ENV_VAR}=...`, "
    "or start a Secret Service keyring (for example gnome-keyring inside `dbus-run-session`), "
    "or install a keyring backend such as keyrings.alt and set PYTHON_KEYRING_BACKEND. "
    "mj-tui never writes the key to a plain file."
)


class Secret:
    """A string that refuses to show itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:  # never pickle the key into a file by accident
        raise TypeError("Secret cannot be pickled")

    @property
    def hint(self) -> str:
        """A recognisable but harmless tail, e.g. ``…a1b2``."""
        v = self._value
        return f"…{v[-4:]}" if len(v) >= 12 else "…"


class KeySource(StrEnum):
    ENV = "environment"
    KEYRING = "keyring"
    NONE = "none"


@dataclass(frozen=True)
class ResolvedKey:
    key: Secret | None
    source: KeySource
    #: why no key could be read from the keyring (None when it simply has none)
    problem: str | None = None


def _run_with_timeout(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` in a daemon thread, waited on for KEYRING_TIMEOUT seconds.

    A daemon thread, not an executor's: the interpreter joins an executor's threads at
    exit, so a backend that never answers would hold the process open long after the
    user quit. A daemon thread left waiting is simply dropped at exit."""
    outcome: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="mj-tui-keyring", daemon=True).start()
    if not done.wait(KEYRING_TIMEOUT):
        raise CredentialsError(
            f"The OS keyring did not answer within {KEYRING_TIMEOUT:.0f}s (is it locked?). Unlock it, or use {ENV_VAR}."
        )
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _backend() -> KeyringBackend:
    """The active keyring backend, or raise NoKeyring if it cannot store anything."""
    try:
        import keyring
        import keyring.backends.fail
        import keyring.backends.null

        backend = keyring.get_keyring()
    except Exception:  # a bad PYTHON_KEYRING_BACKEND raises plain RuntimeError/ImportError
        raise NoKeyring(NO_KEYRING_HELP) from None
    if isinstance(backend, (keyring.backends.fail.Keyring, keyring.backends.null.Keyring)):
        raise NoKeyring(NO_KEYRING_HELP)
    return backend


def _keyring_call(method: str, *args: str) -> object:
    def call() -> object:
        # finding the backend is inside the timeout too: it may probe a D-Bus that hangs
        backend = _backend()
        return getattr(backend, method)(*args)

    import keyring.errors

    try:
        return _run_with_timeout(call)
    except keyring.errors.PasswordDeleteError:
        return None
    except keyring.errors.NoKeyringError:
        raise NoKeyring(NO_KEYRING_HELP) from None
    except keyring.errors.KeyringLocked:
        raise CredentialsError(f"The OS keyring is locked. Unlock it, or use {ENV_VAR}.") from None
    except CredentialsError:
        raise
    except Exception as exc:  # D-Bus and backend errors: say which, never dump a traceback
        raise CredentialsError(f"The OS keyring failed ({type(exc).__name__}). Use {ENV_VAR} instead.") from None


def keyring_name() -> str | None:
    """The backend's name, or None when there is none (or it does not answer in time)."""
    try:
        backend = _run_with_timeout(_backend)
    except CredentialsError:
        return None
    return f"{type(backend).__module__}.{type(backend).__name__}"


def get_key(profile: str) -> ResolvedKey:
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return ResolvedKey(Secret(env), KeySource.ENV)
    try:
        stored = _keyring_call("get_password", SERVICE, profile)
    except CredentialsError as exc:
        return ResolvedKey(None, KeySource.NONE, problem=exc.message)
    if isinstance(stored, str) and stored:
        return ResolvedKey(Secret(stored), KeySource.KEYRING)
    return ResolvedKey(None, KeySource.NONE)


def set_key(profile: str, key: str | Secret) -> None:
    value = key.reveal() if isinstance(key, Secret) else key
    value = value.strip()
    if not value:
        raise CredentialsError("The key is empty.")
    if any(ch.isspace() for ch in value):
        raise CredentialsError("The key contains spaces or line breaks; paste only the key.")
    _keyring_call("set_password", SERVICE, profile, value)


def delete_key(profile: str) -> bool:
    """Remove the profile's key; returns whether there was one."""
    had = _keyring_call("get_password", SERVICE, profile)
    if had:
        _keyring_call("delete_password", SERVICE, profile)
    return bool(had)
