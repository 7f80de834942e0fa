"""A local stand-in for the Midjourney reseller APIs mj-tui talks to.

Two dialects over one simulated Midjourney: OhMyGPT (`/api/v1/ai/draw/mj/*`) and
midjourney-proxy behind a new-api gateway (`/mj/*`, `/mj-relax/mj/*`, ...). It is
written from the providers' docs and deliberately shares no code with mj_tui.core.

The names below load on first use: the CLI reads the emulator's options
(:mod:`.options`) without paying for Starlette and uvicorn.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .config import Account, EmulatorConfig
    from .server import running_emulator, serve

__all__ = ["Account", "EmulatorConfig", "create_app", "running_emulator", "serve"]

_HOME = {
    "Account": ".config",
    "EmulatorConfig": ".config",
    "create_app": ".app",
    "running_emulator": ".server",
    "serve": ".server",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOME[name], __name__), name)
