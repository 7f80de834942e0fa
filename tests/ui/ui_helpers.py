"""Building an App for a test, and waiting for it without fixed sleeps."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mj_tui.core.config import default_profile, load_config
from mj_tui.core.credentials import KeySource, ResolvedKey, Secret
from mj_tui.core.models import ProviderKind
from mj_tui.launch import Launch
from mj_tui.ui.app import MjApp


def fresh_key() -> str:
    return f"sk-ui-{uuid.uuid4().hex[:12]}"


def make_launch(
    tmp_path: Path,
    url: str,
    provider: str = "ohmygpt",
    *,
    key: str | None = None,
    page_size: int = 12,
    keymap: dict[str, str] | None = None,
    **profile_changes,
) -> Launch:
    kind = ProviderKind(provider)
    profile = replace(
        default_profile("test", kind), base_url=url, poll_interval=0.2, page_size=page_size, **profile_changes
    )
    if kind == ProviderKind.MJPROXY:
        profile = replace(profile, path_template="/mj-{mode}/mj")
    config = load_config(tmp_path / "none.toml")
    if keymap:
        config.keymap = dict(keymap)
    resolved = ResolvedKey(Secret(key), KeySource.ENV) if key else ResolvedKey(None, KeySource.NONE)
    return Launch(
        config=config,
        profile=profile,
        key=resolved,
        data_dir=tmp_path / "d",
        cache_dir=tmp_path / "c",
        graphics="halfcell",
    )


class Recorder:
    """Every notification the app raised (toasts vanish; the test still sees them)."""

    def __init__(self, app: MjApp):
        self.items: list[tuple[str, str, str]] = []  # (severity, title, message)
        original = app.notify

        def notify(message, *, title="", severity="information", timeout=None, markup=True):
            self.items.append((severity, title, str(message)))
            return original(message, title=title, severity=severity, timeout=timeout, markup=markup)

        app.notify = notify  # type: ignore[method-assign]

    def titles(self, severity: str | None = None) -> list[str]:
        return [t for s, t, _ in self.items if severity is None or s == severity]

    def text(self) -> str:
        return "\n".join(f"{s}|{t}|{m}" for s, t, m in self.items)


def make_app(launch: Launch, graphics, **kwargs) -> MjApp:
    return MjApp(launch, graphics=graphics, blink_cursor=False, animations=False, **kwargs)


async def wait_for(pilot, predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    """Let the app run until `predicate()` is truthy (workers, timers and polls included)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def grid_in_preview(pilot, app, prompt: str = "a fox"):
    """Type `prompt` key by key, send it, and wait until its grid is in the preview; the main screen."""
    from mj_tui.ui.screens.main import MainScreen

    screen = await wait_for(
        pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.started and app.screen, what="main"
    )
    for ch in prompt:
        await pilot.press("space" if ch == " " else ch)
    await pilot.press("ctrl+j")
    await wait_for(pilot, lambda: screen.preview.shown is not None, what="the grid on screen")
    return screen


def submits(control) -> int:
    """Submit requests (imagine, action, shorten...) the emulator has seen: never polls or pages."""
    requests = control.get("/_emulator/state").json()["requests"]
    return sum(
        n
        for path, n in requests.items()
        if "/submit/" in path
        or path.rsplit("/", 1)[-1] in ("imagine", "action", "blend", "describe", "shorten", "modal")
    )
