"""Everything resolved before anything runs: config, profile, key, demo wiring.

Both the TUI and the scripting commands start from a :class:`Launch`, so the
key and the profile are settled before the App exists (keyring prompts and
config errors never happen inside the TUI's event loop).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .core.config import Config, Profile, cache_dir, data_dir, default_profile, load_config, resolve_profile
from .core.credentials import KeySource, ResolvedKey, Secret, get_key
from .core.history import History
from .core.models import Mode

if TYPE_CHECKING:  # httpx, the emulator and the service load after the first frame
    import httpx

    from .core.service import MjService
    from .ui.early_frame import EarlyFrame

DEMO_BASE_URL = "http://emulator.demo"
DEMO_KEY = "demo-key"
DEMO_DIR_ENV = "MJ_TUI_DEMO_DIR"


@dataclass
class Launch:
    config: Config
    profile: Profile
    key: ResolvedKey
    demo: bool = False
    graphics: str = "auto"
    transport: httpx.AsyncBaseTransport | None = None
    data_dir: Path | None = None
    cache_dir: Path | None = None
    emulator_app: object | None = None  # the in-process emulator in demo mode
    #: EmulatorConfig fields for the demo's emulator, started on first use
    demo_emulator: dict[str, Any] | None = None
    #: the first frame, when it was drawn before Textual (the TUI takes it over)
    early_frame: EarlyFrame | None = None

    @property
    def history_path(self) -> Path:
        return (self.data_dir or data_dir()) / "history.sqlite3"

    def open_history(self, *, defer_index: bool = False) -> History:
        """The local store alone: enough to draw the first frame (with `defer_index`, an
        older store's search index is built later, by the service; see History)."""
        return History(self.history_path, defer_index=defer_index)

    def _transport(self) -> httpx.AsyncBaseTransport | None:
        if self.transport is None and self.demo_emulator is not None:
            import httpx

            from .emulator import EmulatorConfig, create_app

            self.emulator_app = create_app(EmulatorConfig(**self.demo_emulator))
            self.transport = httpx.ASGITransport(app=self.emulator_app)
        return self.transport

    def make_service(self, *, history: History | None = None) -> MjService:
        """The service for this profile and key. A `history` given is lent (the caller
        closes it); without one the service opens the store and closes it with itself."""
        from .core.images import ImageCache
        from .core.service import MjService

        return MjService(
            self.profile,
            self.key.key,
            history=history or self.open_history(),
            images=ImageCache((self.cache_dir or cache_dir()) / "images"),
            transport=self._transport(),
            close_history=history is None,
        )


def _demo(launch: Launch, *, job_seconds: float, seed_history: int) -> Launch:
    # a private, throw-away store: the demo's tasks live only in its emulator.
    # MJ_TUI_DEMO_DIR keeps it somewhere known instead (benchmarks pre-fill a history there).
    if os.environ.get(DEMO_DIR_ENV):
        scratch = Path(os.environ[DEMO_DIR_ENV])
    else:
        scratch = Path(tempfile.mkdtemp(prefix="mj-tui-demo-"))
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    profile = replace(
        default_profile("demo", launch.profile.provider),
        base_url=DEMO_BASE_URL,
        poll_interval=1.0,
        default_mode=Mode.FAST,
    )
    return replace(
        launch,
        profile=profile,
        key=ResolvedKey(Secret(DEMO_KEY), KeySource.ENV),
        demo=True,
        data_dir=scratch / "data",
        cache_dir=scratch / "cache",
        demo_emulator={
            "job_seconds": job_seconds,
            "seed_history": seed_history,
            "grid_size": 1024,
            "demo_key": DEMO_KEY,
        },
    )


def build_launch(
    *,
    profile: str | None = None,
    provider: str | None = None,
    base_url: str | None = None,
    demo: bool = False,
    graphics: str | None = None,
    demo_job_seconds: float = 6.0,
    demo_seed_history: int = 24,
) -> Launch:
    config = load_config()
    chosen = resolve_profile(config, profile, provider=provider, base_url=base_url)
    launch = Launch(
        config=config,
        profile=chosen,
        key=ResolvedKey(None, KeySource.NONE),
        graphics=graphics or config.graphics,
    )
    if demo:
        return _demo(launch, job_seconds=demo_job_seconds, seed_history=demo_seed_history)
    launch.key = get_key(chosen.name)
    return launch
