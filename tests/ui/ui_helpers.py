"""Building an App for a test, and waiting for it without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual import events

from mj_tui.core.config import default_profile, load_config
from mj_tui.core.credentials import KeySource, ResolvedKey, Secret
from mj_tui.core.models import ProviderKind, Status
from mj_tui.launch import Launch
from mj_tui.ui.app import MjApp


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
    """Every notification the app raised (toasts vanish; the test still sees them), and
    how often it rang the terminal's bell (a key it turned down without a word)."""

    def __init__(self, app: MjApp):
        self.items: list[tuple[str, str, str]] = []  # (severity, title, message)
        self.bells = 0
        original, ring = app.notify, app.bell

        def notify(message, *, title="", severity="information", timeout=None, markup=True):
            self.items.append((severity, title, str(message)))
            return original(message, title=title, severity=severity, timeout=timeout, markup=markup)

        def bell() -> None:
            self.bells += 1
            ring()

        app.notify = notify  # type: ignore[method-assign]
        app.bell = bell  # type: ignore[method-assign]

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


async def until_idle(pilot, timeout: float = 10.0) -> None:
    """Let the app run until it has nothing left to do: every message queued on the app and
    on the widgets of its screens handled, and no worker unfinished (a DirectoryTree's
    loader, which waits for folders to open as long as its tree lives, aside).

    For "nothing (more) happened" checks: first wait on the sign that the app took the key
    (a toast, a status line, the bell), then on this, so a request a worker was still making
    has reached the emulator (or never will) before the test counts requests.
    """
    app = pilot.app
    deadline = time.monotonic() + timeout
    while True:
        nodes = [app, *(node for screen in app.screen_stack for node in screen.walk_children(with_self=True))]
        handled = []
        for node in nodes:  # each queue's messages up to now, then this marker
            marker = asyncio.get_running_loop().create_future()
            if node.call_later(marker.set_result, None):
                handled.append(marker)
        if handled:
            await asyncio.wait(handled, timeout=max(0.0, deadline - time.monotonic()))
        busy = [w for w in app.workers if not w.is_finished and w.group != "_loader"]
        queued = [node for node in nodes if node.message_queue_size]
        if all(m.done() for m in handled) and not busy and not queued:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the app never went idle: workers {[w.name for w in busy]}, queued {queued}")
        await pilot.pause(0.01)


async def paste(pilot, text: str) -> None:
    """Paste `text` as a terminal does: one bracketed paste, which the driver hands the app
    as a single Paste event (the app sends it on to the focused widget)."""
    pilot.app.post_message(events.Paste(text))
    await until_idle(pilot)


async def screen_shown(pilot, kind: type, what: str | None = None, timeout: float = 10.0):
    """The screen on top, once it is a `kind` and mounted. A pushed screen is on top at once
    but composes its widgets (and focuses one) a message later: querying it or typing into
    it before then finds nothing."""
    app = pilot.app
    return await wait_for(
        pilot,
        lambda: isinstance(app.screen, kind) and app.screen.is_mounted and app.screen,
        timeout,
        what or kind.__name__,
    )


# -- steps many tests take ---------------------------------------------------------------


async def main_screen(pilot, app, *, connected: bool = False):
    """The main screen, once started (with `connected`, once its service is up too)."""
    from mj_tui.ui.screens.main import MainScreen

    return await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, MainScreen)
            and app.screen.started
            and (app.screen.service or not connected)
            and app.screen
        ),
        what="main screen connected" if connected else "main screen",
    )


async def type_text(pilot, text: str) -> None:
    """Type `text` key by key."""
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def grid_in_preview(pilot, app, prompt: str = "a fox"):
    """Type `prompt` key by key, send it, and wait until its grid is in the preview; the main screen."""
    screen = await main_screen(pilot, app)
    await type_text(pilot, prompt)
    await pilot.press("ctrl+j")
    await wait_for(pilot, lambda: screen.preview.shown is not None, what="the grid on screen")
    return screen


def in_the_bar(screen, task) -> bool:
    """The action bar shows `task` (and its buttons). It follows the list a message later,
    and the button keys (u, v, r, a) act on what it shows: wait for it before pressing them."""
    return task is not None and screen.actions.shown_task == task


async def finished_grid(pilot, screen, prompt: str):
    """`prompt` put in the prompt box and sent; its grid, once finished and in the action bar."""
    screen.composer.text_area.text = prompt
    screen.set_focus(screen.composer.text_area)
    await pilot.press("ctrl+j")
    return await wait_for(
        pilot,
        lambda: (
            (
                (t := screen.tasks.current)
                and t.prompt == prompt
                and t.status == Status.SUCCESS
                and in_the_bar(screen, t)
            )
            and t
        ),
        what="finished grid",
    )


async def single_image(pilot, screen, prompt: str):
    """U1 of `prompt`'s finished grid, pressed from the task list; the image, once finished
    and in the action bar."""
    grid = await finished_grid(pilot, screen, prompt)
    screen.set_focus(screen.tasks)
    await pilot.press("u", "1")
    return await wait_for(
        pilot,
        lambda: (
            ((t := screen.tasks.current) and t.id != grid.id and t.status == Status.SUCCESS and in_the_bar(screen, t))
            and t
        ),
        what="U1 done",
    )


async def custom_zoom_dialog(pilot, screen, single):
    """Custom Zoom pressed on a finished single image; its prompt dialog, once open."""
    from mj_tui.core.models import ButtonKind
    from mj_tui.ui.screens.modal_prompt import PromptDialog

    screen.press(single, next(b for b in single.buttons if b.kind == ButtonKind.CUSTOM_ZOOM))
    return await screen_shown(pilot, PromptDialog, what="Custom Zoom's dialog")


def frozen_jobs(control, job_seconds: float = 30) -> None:
    """Jobs take `job_seconds` on a frozen emulator clock: they run until the test advances it
    (with OhMyGPT's 3 at once, the queue fills and stays full)."""
    control.post("/_emulator/config", json={"job_seconds": job_seconds})
    control.post("/_emulator/clock", json={"freeze": True})


def submits(control) -> int:
    """Submit requests (imagine, action, shorten...) the emulator has seen: never polls or pages."""
    requests = control.get("/_emulator/state").json()["requests"]
    return sum(
        n
        for path, n in requests.items()
        if "/submit/" in path
        or path.rsplit("/", 1)[-1] in ("imagine", "action", "blend", "describe", "shorten", "modal")
    )
