"""Deterministic scenes of the real app, shared by the snapshot tests and
``screenshots/make_screenshots.py``.

Determinism: the in-process emulator (ASGITransport, no socket) is created
with its clock frozen at a fixed instant, so seeded history, task ids, times
and pictures are the same on every run; the App reads that same clock for
elapsed times; cursor blink and animations are off; the half-cell renderer is
used with a fixed cell size; toasts are cleared before the picture is taken.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
from ui_helpers import paste, screen_shown, until_idle, wait_for

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
        app = create_app(
            EmulatorConfig(job_seconds=job_seconds, seed_history=seed_history, grid_size=256, demo_key=DEMO_KEY)
        )
        app.state.engine.clock.freeze(True)
    finally:
        engine_module.time = real_time
    return app


def scene_app(tmp: Path, *, with_key: bool = True, provider: str = "ohmygpt") -> MjApp:
    emulator = frozen_emulator()
    engine = emulator.state.engine
    profile = replace(
        default_profile("demo", ProviderKind(provider)), base_url="http://emulator.demo", poll_interval=0.2
    )
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
        clock=lambda: datetime.fromtimestamp(engine.clock.now(), UTC),
        blink_cursor=False,
        animations=False,
    )
    app.engine = engine  # scenes move the emulator's clock
    return app


# -- waiting ----------------------------------------------------------------------------


async def until(pilot, predicate, what: str = "scene") -> None:
    await wait_for(pilot, predicate, timeout=15.0, what=f"the scene: {what}")


def main_screen(app):
    from mj_tui.ui.screens.main import MainScreen

    return app.screen if isinstance(app.screen, MainScreen) and app.screen.started else None


async def settle(pilot) -> None:
    """Let workers finish and drop toasts, so the picture is the same every time."""
    await until_idle(pilot)
    pilot.app.clear_notifications()
    await until_idle(pilot)


# -- scenes -----------------------------------------------------------------------------


async def finished_grid(pilot) -> None:
    """The main screen on the newest finished grid, its quadrants numbered."""
    app = pilot.app
    await until(
        pilot,
        lambda: main_screen(app) and main_screen(app).tasks.page and main_screen(app).tasks.page.total == 24,
        what="history page",
    )
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
    await paste(pilot, "a red fox in the snow, watercolor")
    await pilot.press("ctrl+j")
    await until(pilot, lambda: screen.tasks.current and "red fox" in screen.tasks.current.prompt, what="submitted")
    app.engine.clock.advance(3)
    await until(pilot, lambda: screen.tasks.current.progress > 0, what="progress")
    await settle(pilot)


async def help_screen(pilot) -> None:
    await finished_grid(pilot)
    await pilot.press("f1")
    from mj_tui.ui.screens.help import HelpScreen

    await screen_shown(pilot, HelpScreen, what="help", timeout=15.0)
    await settle(pilot)


async def welcome(pilot) -> None:
    from mj_tui.ui.screens.welcome import WelcomeScreen

    await screen_shown(pilot, WelcomeScreen, what="welcome", timeout=15.0)
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


async def library_search(pilot) -> None:
    """A star and a tag left on two tasks, then a search typed: the list shows what it finds."""
    await finished_grid(pilot)
    screen = main_screen(pilot.app)
    screen.set_focus(screen.tasks)
    await pilot.press("down", "asterisk")
    await until(pilot, lambda: screen.tasks.current.starred, what="a star")
    await pilot.press("down", "t")
    from mj_tui.ui.screens.ask import AskDialog

    await screen_shown(pilot, AskDialog, what="tags", timeout=15.0)
    await pilot.press(*"food night", "enter")
    await until(pilot, lambda: screen.tasks.current.tags == ("food", "night"), what="tags")
    await pilot.press("slash", *"ramen -status:failed")
    await until(pilot, lambda: screen.session.query == "ramen -status:failed", what="the search")
    # the preview keeps the last picture until the selected one's is ready: wait for that
    await until(
        pilot,
        lambda: screen.preview.shown is not None and screen.preview.shown.task.id == screen.tasks.current.id,
        what="the selected task's picture",
    )
    await settle(pilot)


async def gallery(pilot) -> None:
    """The gallery over the history: every tile with its thumbnail."""
    from mj_tui.ui.screens.gallery import GalleryScreen

    await finished_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    screen.set_focus(screen.tasks)
    await pilot.press("asterisk", "i")
    await screen_shown(pilot, GalleryScreen, what="gallery", timeout=15.0)

    def drawn() -> bool:
        shown = app.screen
        if not isinstance(shown, GalleryScreen) or shown.page is None:
            return False
        wanted = [t for t in shown.tiles if t.wants_picture]
        return bool(wanted) and all(t.picture_key is not None for t in wanted)

    await until(pilot, drawn, what="every thumbnail")
    await pilot.press("right")
    await settle(pilot)


# -- dialogs (issue 4) ------------------------------------------------------------------

SCENE_PICTURES = Path("/tmp/mj-tui-scene-pictures")  # a fixed path: it shows in the picker


def scene_pictures() -> Path:
    """Three small images and a text file, the same on every run."""
    from PIL import Image

    SCENE_PICTURES.mkdir(parents=True, exist_ok=True)
    for name, colour in (("beach.png", (230, 190, 120)), ("forest.jpg", (40, 120, 60)), ("night.png", (20, 30, 90))):
        Image.new("RGB", (96, 64), colour).save(SCENE_PICTURES / name)
    (SCENE_PICTURES / "notes.txt").write_text("not an image\n")
    return SCENE_PICTURES


async def single_image(pilot) -> None:
    """U1 of the newest grid, finished and shown."""
    from mj_tui.core.models import Status

    await finished_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    screen.set_focus(screen.tasks)
    await pilot.press("u", "1")
    await until(pilot, lambda: screen.tasks.current.origin_custom_id, what="U1 sent")
    app.engine.clock.advance(10)
    await until(
        pilot,
        lambda: (
            screen.tasks.current.status == Status.SUCCESS
            and screen.preview.shown
            and screen.preview.shown.key.endswith(screen.tasks.current.id)
        ),
        what="single image",
    )
    await settle(pilot)


async def region_dialog(pilot) -> None:
    """Vary (Region) with two areas: a preset quarter and a moved, resized second one."""
    from mj_tui.core.models import ButtonKind
    from mj_tui.ui.screens.region import RegionDialog
    from mj_tui.ui.widgets.mask_editor import MaskEditor

    await single_image(pilot)
    app = pilot.app
    screen = main_screen(app)
    task = screen.tasks.current
    screen.press(task, next(b for b in task.buttons if b.kind == ButtonKind.VARY_REGION))
    await screen_shown(pilot, RegionDialog, what="region dialog", timeout=15.0)
    editor = app.screen.query_one(MaskEditor)
    await until(pilot, lambda: editor.grid[0] > 0, what="editor laid out")
    await pilot.press("2", "a", "down", "down", "left", "left", "shift+right", "shift+down")
    await settle(pilot)


async def blend_dialog(pilot) -> None:
    """The blend picker: two files picked from the tree, the shape on landscape."""
    from mj_tui.ui.screens.pick_images import ImageTree, PickImagesDialog

    await finished_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    screen.session.pick_root = scene_pictures()
    await pilot.press("f6")
    await screen_shown(pilot, PickImagesDialog, what="blend dialog", timeout=15.0)
    tree = app.screen.query_one(ImageTree)
    await until(pilot, lambda: len(tree.root.children) == 3, what="tree loaded")
    await pilot.press("down", "enter", "down", "down", "enter", "tab", "tab", "tab", "right")
    await settle(pilot)


async def describe_results(pilot) -> None:
    """A finished describe: its four prompts offered."""
    from mj_tui.ui.screens.pick_images import PickImagesDialog
    from mj_tui.ui.screens.pick_prompt import PickPromptDialog

    await finished_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    screen.session.pick_root = scene_pictures()
    screen.set_focus(screen.tasks)
    await pilot.press("d")
    await screen_shown(pilot, PickImagesDialog, what="describe dialog", timeout=15.0)
    await pilot.press("tab", "tab")  # past the tree and the picked list: the path box
    await paste(pilot, str(SCENE_PICTURES / "night.png"))
    await pilot.press("enter", "ctrl+j")
    await until(pilot, lambda: app.screen is screen and screen.tasks.current.action == "DESCRIBE", what="sent")
    # toasts under a dialog are only cleared when their screen is shown again: drop them now
    app.clear_notifications()
    await until_idle(pilot)
    app.engine.clock.advance(10)
    await screen_shown(pilot, PickPromptDialog, what="prompts dialog", timeout=15.0)
    await pilot.press("2")
    await settle(pilot)


async def permutations_confirm(pilot) -> None:
    """Six jobs from one prompt: asked first, with the price."""
    from mj_tui.ui.screens.confirm import ConfirmDialog

    await finished_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    screen.composer.text_area.insert("a {red, blue, green} kite over {dunes, the sea} --ar 3:2")
    await pilot.press("ctrl+j")
    await screen_shown(pilot, ConfirmDialog, what="confirm", timeout=15.0)
    await settle(pilot)


async def composer_lint_and_suggest(pilot) -> None:
    """An error underlined and named under the box, and the parameter list open."""
    await finished_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    screen.composer.text_area.insert("a lighthouse --ar 3:2 --v 5 --style raw --s")
    await pilot.press("tab")
    await until(pilot, lambda: screen.composer.query_one("#suggest").display, what="suggestions")
    await settle(pilot)


async def queue_view(pilot) -> None:
    """Eight prompts on a limit of three: three rendering, five waiting, the queue paused."""
    from mj_tui.ui.screens.confirm import ConfirmDialog
    from mj_tui.ui.screens.queue import QueueScreen

    await finished_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    screen.composer.text_area.insert("a paper {crane, boat, kite, lantern, fox, owl, star, moon} on a windowsill")
    await pilot.press("ctrl+j")
    await screen_shown(pilot, ConfirmDialog, what="confirm", timeout=15.0)
    await pilot.press("y")

    def out() -> int:
        runner = screen.queue.runner
        return sum(1 for j in runner.queue.jobs(runner.namespace) if j.state.active) if runner else 0

    await until(pilot, lambda: out() == 3, what="three jobs out")
    app.engine.clock.advance(3)
    await until(pilot, lambda: screen.queue.summary and screen.queue.summary.counts["running"] == 3, what="running")
    await pilot.press("f9")
    view = await screen_shown(pilot, QueueScreen, what="queue view", timeout=15.0)
    await pilot.press("down", "down", "down", "p")
    await until(pilot, lambda: "PAUSED" in str(view.query_one("#queue-title").render()), what="paused")
    await settle(pilot)


async def video_batch(pilot) -> None:
    """midjourney-proxy: an upscale animated (high motion), its batch of four videos done:
    the still in the preview, the videos' U1-U4 in the action bar."""
    from mj_tui.core.models import Action, ButtonKind, Status

    await mjproxy_first_grid(pilot)
    app = pilot.app
    screen = main_screen(app)
    grid = screen.tasks.current
    screen.set_focus(screen.tasks)
    await pilot.press("u", "1")
    await until(pilot, lambda: screen.tasks.current.id != grid.id, what="U1 sent")
    app.engine.clock.advance(10)
    await until(pilot, lambda: screen.actions.find(ButtonKind.ANIMATE), what="the upscale's Animate")
    screen.press(screen.tasks.current, screen.actions.find(ButtonKind.ANIMATE))
    await until(pilot, lambda: screen.tasks.current.action == Action.VIDEO, what="video sent")
    app.engine.clock.advance(10)
    await until(
        pilot,
        lambda: (
            screen.tasks.current.status == Status.SUCCESS
            and screen.actions.find(ButtonKind.VIDEO_UPSCALE)
            and screen.preview.shown
        ),
        what="the videos",
    )
    await settle(pilot)
