"""Deterministic scenes of the real app, shared by the snapshot tests and
``screenshots/make_screenshots.py``.

Determinism: the in-process emulator (ASGITransport, no socket) is created
with its clock frozen at a fixed instant, so seeded history, task ids, times
and pictures are the same on every run; the App reads that same clock for
elapsed times; cursor blink and animations are off; the half-cell renderer is
used with a fixed cell size; toasts are cleared before the picture is taken.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import httpx

from mj_tui.core.config import default_profile, load_config
from mj_tui.core.credentials import KeySource, ResolvedKey, Secret
from mj_tui.core.models import ProviderKind
from mj_tui.emulator import EmulatorConfig, create_app
from mj_tui.launch import Launch
from mj_tui.ui.app import MjApp
from mj_tui.ui.graphics import load_graphics

FIXED_TIME = 1_780_000_000.0  # 2026-05-28: any fixed instant will do
DEMO_KEY = "sk-demo"


def frozen_emulator(*, job_seconds: float = 6.0, seed_history: int = 24):
    """The emulator app with its clock frozen at FIXED_TIME, history seeded at that time."""
    from mj_tui.emulator import engine as engine_module

    real_time = engine_module.time
    # the engine reads wall time only through its module's `time`; pin it while it seeds
    engine_module.time = SimpleNamespace(time=lambda: FIXED_TIME)
    try:
        app = create_app(EmulatorConfig(job_seconds=job_seconds, seed_history=seed_history, grid_size=256,
                                        demo_key=DEMO_KEY))
        app.state.engine.clock.freeze(True)
    finally:
        engine_module.time = real_time
    return app


def scene_app(tmp: Path, *, with_key: bool = True, provider: str = "ohmygpt") -> MjApp:
    emulator = frozen_emulator()
    engine = emulator.state.engine
    profile = replace(default_profile("demo", ProviderKind(provider)), base_url="http://emulator.demo",
                      poll_interval=0.2)
    if profile.provider == ProviderKind.MJPROXY:
        profile = replace(profile, path_template="/mj-{mode}/mj")
    key = ResolvedKey(Secret(DEMO_KEY), KeySource.ENV) if with_key else ResolvedKey(None, KeySource.NONE)
    launch = Launch(
        config=load_config(tmp / "none.toml"),
        profile=profile,
        key=key,
        demo=with_key,
        graphics="halfcell",
        transport=httpx.ASGITransport(app=emulator),
        data_dir=tmp / "data",
        cache_dir=tmp / "cache",
        emulator_app=emulator,
    )
    app = MjApp(
        launch,
        graphics=load_graphics("halfcell"),
        clock=lambda: datetime.fromtimestamp(engine.clock.now(), timezone.utc),
        blink_cursor=False,
        animations=False,
    )
    app.engine = engine  # scenes move the emulator's clock
    return app


# -- waiting ----------------------------------------------------------------------------

async def until(pilot, predicate, timeout: float = 15.0, what: str = "scene") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"scene never reached: {what}")
        await pilot.pause(0.05)


def main_screen(app):
    from mj_tui.ui.screens.main import MainScreen

    return app.screen if isinstance(app.screen, MainScreen) and app.screen.started else None


async def settle(pilot) -> None:
    """Let workers finish and drop toasts, so the picture is the same every time."""
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    pilot.app.clear_notifications()
    await pilot.pause(0.1)


# -- scenes -----------------------------------------------------------------------------

async def finished_grid(pilot) -> None:
    """The main screen on the newest finished grid, its quadrants numbered."""
    app = pilot.app
    await until(pilot, lambda: main_screen(app) and main_screen(app).tasks.page
                and main_screen(app).tasks.page.total == 24, what="history page")
    await until(pilot, lambda: main_screen(app).preview.shown, what="grid picture")
    await settle(pilot)


async def zoomed_quadrant(pilot) -> None:
    await finished_grid(pilot)
    screen = main_screen(pilot.app)
    screen.set_focus(screen.tasks)
    await pilot.press("2")
    await until(pilot, lambda: screen.preview.shown and screen.preview.shown.quadrant == 2, what="zoom")
    await settle(pilot)


async def mid_job(pilot) -> None:
    """A prompt sent a few seconds ago, rendering."""
    await finished_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    for ch in "a red fox in the snow, watercolor":
        await pilot.press("space" if ch == " " else ch)
    await pilot.press("ctrl+j")
    await until(pilot, lambda: screen.tasks.current and "red fox" in screen.tasks.current.prompt, what="submitted")
    app.engine.clock.advance(3)
    await until(pilot, lambda: screen.tasks.current.progress > 0, what="progress")
    await settle(pilot)


async def help_screen(pilot) -> None:
    await finished_grid(pilot)
    await pilot.press("f1")
    from mj_tui.ui.screens.help import HelpScreen

    await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")
    await settle(pilot)


async def welcome(pilot) -> None:
    from mj_tui.ui.screens.welcome import WelcomeScreen

    await until(pilot, lambda: isinstance(pilot.app.screen, WelcomeScreen), what="welcome")
    await settle(pilot)


async def mjproxy_first_grid(pilot) -> None:
    """midjourney-proxy keeps no history: a first prompt, finished."""
    app = pilot.app
    await until(pilot, lambda: main_screen(app), what="main screen")
    screen = main_screen(app)
    screen.composer.text_area.insert("a lighthouse on a cliff --ar 3:2")
    await pilot.press("ctrl+j")
    await until(pilot, lambda: screen.tasks.current and screen.tasks.current.progress == 0, what="submitted")
    app.engine.clock.advance(10)
    await until(pilot, lambda: screen.preview.shown, what="grid picture")
    await settle(pilot)
