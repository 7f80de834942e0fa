"""Core tests talk real HTTP over loopback to the emulator (both dialects)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.keys import fresh_key

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.history import History
from mj_tui.core.images import ImageCache
from mj_tui.core.models import ProviderKind
from mj_tui.core.service import MjService
from mj_tui.emulator import Account, EmulatorConfig, running_emulator

# keys with special accounts in the shared emulator
NO_PERMISSION_KEY = "sk-no-permission"
BROKE_KEY = "sk-broke"
NOT_ADMIN_KEY = "sk-not-admin"


@pytest.fixture(scope="session")
def emulator():
    """One real HTTP emulator for the session (per xdist worker), its URL."""
    config = EmulatorConfig(
        job_seconds=0,
        grid_size=256,  # small art keeps the suite fast; quadrant logic is size-independent
        open_access=True,
        accounts={
            NO_PERMISSION_KEY: Account(mj_permission=False),
            BROKE_KEY: Account(balance=100),
            NOT_ADMIN_KEY: Account(admin=False),
        },
    )
    with running_emulator(config) as url:
        yield url


@pytest.fixture
def special_keys():
    return {"no_permission": NO_PERMISSION_KEY, "broke": BROKE_KEY, "not_admin": NOT_ADMIN_KEY}


@pytest.fixture(params=[ProviderKind.OHMYGPT, ProviderKind.MJPROXY], ids=["ohmygpt", "mjproxy"])
def kind(request):
    return request.param


@pytest.fixture
async def make_service(emulator, tmp_path):
    made: list[MjService] = []

    def make(kind: ProviderKind, key: str | None = None, **profile_changes) -> MjService:
        settings = {"base_url": emulator, "poll_interval": 0.01, "request_timeout": 5.0, **profile_changes}
        profile = replace(default_profile("test", kind), **settings)
        n = len(made)
        service = MjService(
            profile,
            Secret(key or fresh_key()),
            history=History(tmp_path / f"history{n}.sqlite3"),
            images=ImageCache(tmp_path / f"images{n}"),
        )
        # keep test retries quick: the policy itself is what is under test, not the wait
        service.provider.http.retry.base_delay = 0.01
        service.provider.http.retry.max_delay = 0.05
        made.append(service)
        return service

    yield make
    for service in made:
        await service.aclose()
        service.history.close()


@pytest.fixture
async def service(make_service, kind):
    return make_service(kind)
