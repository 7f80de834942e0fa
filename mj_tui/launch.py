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

import httpx

from .core.config import Config, Profile, cache_dir, data_dir, default_profile, load_config, resolve_profile
from .core.credentials import KeySource, ResolvedKey, Secret, get_key
from .core.models import Mode, ProviderKind
from .core.service import MjService, open_service

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

    def make_service(self, key: Secret | None = None) -> MjService:
        return open_service(
            self.profile,
            key or self.key.key,
            data_dir=self.data_dir or data_dir(),
            cache_dir=self.cache_dir or cache_dir(),
            transport=self.transport,
        )


def _demo(launch: Launch, *, job_seconds: float, seed_history: int) -> Launch:
    from .emulator import EmulatorConfig, create_app

    app = create_app(
        EmulatorConfig(job_seconds=job_seconds, seed_history=seed_history, grid_size=1024, demo_key=DEMO_KEY)
    )
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
        transport=httpx.ASGITransport(app=app),
        data_dir=scratch / "data",
        cache_dir=scratch / "cache",
        emulator_app=app,
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
