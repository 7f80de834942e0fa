"""A local stand-in for the Midjourney reseller APIs mj-tui talks to.

Two dialects over one simulated Midjourney: OhMyGPT (`/api/v1/ai/draw/mj/*`) and
midjourney-proxy behind a new-api gateway (`/mj/*`, `/mj-relax/mj/*`, ...). It is
written from the providers' docs and deliberately shares no code with mj_tui.core.
"""

from .app import create_app
from .config import Account, EmulatorConfig
from .server import running_emulator, serve

__all__ = ["Account", "EmulatorConfig", "create_app", "running_emulator", "serve"]
