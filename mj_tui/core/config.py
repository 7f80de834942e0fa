"""Layered configuration: built-in defaults < TOML file < environment < flags.

The file lives in the platformdirs user config dir (``config.toml``); the
``MJ_TUI_CONFIG`` environment variable points at another file, which is how
tests and snapshot runs stay independent of the developer's own setup.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from .errors import ConfigError
from .models import Mode, ProviderKind

E = TypeVar("E", bound=Enum)

APP_NAME = "mj-tui"
CONFIG_ENV = "MJ_TUI_CONFIG"
DATA_DIR_ENV = "MJ_TUI_DATA_DIR"
CACHE_DIR_ENV = "MJ_TUI_CACHE_DIR"

DEFAULT_BASE_URLS = {
    ProviderKind.OHMYGPT: "https://api.ohmygpt.com",
    ProviderKind.MJPROXY: "https://api.maxapi.ai",
}
# MaxAPI-style resellers choose the speed pool by a path prefix
DEFAULT_PATH_TEMPLATES = {
    ProviderKind.OHMYGPT: "/api/v1/ai/draw/mj",
    ProviderKind.MJPROXY: "/mj-{mode}/mj",
}
GRAPHICS_CHOICES = ("auto", "tgp", "sixel", "halfcell", "unicode", "none")


DEFAULT_PAGE_SIZE = 12


@dataclass(frozen=True)
class Profile:
    name: str
    provider: ProviderKind
    base_url: str
    path_template: str
    default_mode: Mode = Mode.FAST
    poll_interval: float = 3.0
    #: tasks per page; 0: as many as the task list shows (the CLI's pages hold 12 then)
    page_size: int = 0
    #: OhMyGPT object-storage prefix for imageS3Url keys; None = derive from base_url
    storage_url: str | None = None
    #: seconds an in-flight task may sit without progress before it is called stale
    stale_after: float = 600.0
    request_timeout: float = 30.0
    #: unfinished jobs the provider allows at once (OhMyGPT: 3 for regular users,
    #: 20 VIP, 50 premium); None when the provider does not say
    queue_limit: int | None = None
    #: what a job costs where the provider publishes no table (midjourney-proxy resellers):
    #: ("imagine", 0.05) for every mode, ("imagine.relax", 0.03) for one; the queue's spend
    #: caps and estimates use it (OhMyGPT's own token table needs none)
    prices: tuple[tuple[str, float], ...] = ()
    #: how the prices above are counted, shown after an amount ("$", "credits")
    price_unit: str = ""
    #: the most the queue may spend in a day (local time), in the profile's unit; None: no cap
    daily_cap: float | None = None

    @property
    def tasks_per_page(self) -> int:
        """The page size where no pane decides it: the configured one, else 12."""
        return self.page_size or DEFAULT_PAGE_SIZE

    @property
    def official_ohmygpt(self) -> bool:
        return self.base_url.rstrip("/") == DEFAULT_BASE_URLS[ProviderKind.OHMYGPT]


def default_profile(name: str, provider: ProviderKind) -> Profile:
    return Profile(
        name=name,
        provider=provider,
        base_url=DEFAULT_BASE_URLS[provider],
        path_template=DEFAULT_PATH_TEMPLATES[provider],
        poll_interval=3.0 if provider == ProviderKind.OHMYGPT else 5.0,
        queue_limit=3 if provider == ProviderKind.OHMYGPT else None,
    )


@dataclass
class Config:
    path: Path
    profiles: dict[str, Profile]
    default_profile: str = "ohmygpt"
    theme: str = "textual-dark"
    graphics: str = "auto"
    download_dir: Path | None = None
    # off by default: a blinking cursor repaints its line twice a second, which is
    # the only traffic an idle session would otherwise send over SSH
    cursor_blink: bool = False
    keymap: dict[str, str] = field(default_factory=dict)
    exists: bool = False
    #: HOST:PORT to take the provider's callbacks on (webhooks); None: polling only
    webhook_listen: str | None = None
    #: the base URL the provider must call when it is not http://HOST:PORT (NAT, a tunnel)
    webhook_public_url: str | None = None


def config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_dir() -> Path:
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else platformdirs.user_data_path(APP_NAME)


def cache_dir() -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env).expanduser() if env else platformdirs.user_cache_path(APP_NAME)


def _builtin_profiles() -> dict[str, Profile]:
    return {
        "ohmygpt": default_profile("ohmygpt", ProviderKind.OHMYGPT),
        "maxapi": default_profile("maxapi", ProviderKind.MJPROXY),
    }


def _enum(value: Any, enum: type[E], where: str) -> E:
    try:
        return enum(str(value).lower())
    except ValueError:
        choices = ", ".join(str(e.value) for e in enum)
        raise ConfigError(f"{where}: {value!r} is not one of {choices}") from None


def _number(value: Any, where: str, *, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ConfigError(f"{where}: expected a number >= {minimum}, got {value!r}")
    return float(value)


def _profile_from_table(name: str, table: dict[str, Any], path: Path) -> Profile:
    where = f"{path} [profiles.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    provider = _enum(table.get("provider", "ohmygpt"), ProviderKind, f"{where} provider")
    base = default_profile(name, provider)
    changes: dict[str, Any] = {}
    if "base_url" in table:
        changes["base_url"] = str(table["base_url"]).rstrip("/")
    if "path_template" in table:
        changes["path_template"] = str(table["path_template"])
    if "default_mode" in table:
        changes["default_mode"] = _enum(table["default_mode"], Mode, f"{where} default_mode")
    if "poll_interval" in table:
        changes["poll_interval"] = _number(table["poll_interval"], f"{where} poll_interval", minimum=0.2)
    if "page_size" in table:
        changes["page_size"] = int(_number(table["page_size"], f"{where} page_size", minimum=0))
    if "storage_url" in table:
        changes["storage_url"] = str(table["storage_url"])
    if "stale_after" in table:
        changes["stale_after"] = _number(table["stale_after"], f"{where} stale_after", minimum=1)
    if "queue_limit" in table:
        changes["queue_limit"] = int(_number(table["queue_limit"], f"{where} queue_limit", minimum=1))
    if "request_timeout" in table:
        changes["request_timeout"] = _number(table["request_timeout"], f"{where} request_timeout", minimum=1)
    if "daily_cap" in table:
        changes["daily_cap"] = _number(table["daily_cap"], f"{where} daily_cap", minimum=0)
    if "price_unit" in table:
        changes["price_unit"] = str(table["price_unit"])[:12]
    if "prices" in table:
        changes["prices"] = _prices(table["prices"], f"{where} prices")
    unknown = set(table) - {"provider", *changes}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    return replace(base, **changes)


_PRICE_KEY = re.compile(r"^[a-z_]+(\.(fast|relax|turbo))?$")


def _prices(value: Any, where: str) -> tuple[tuple[str, float], ...]:
    """A [profiles.x.prices] table: action (or action.mode) = amount per job."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table such as {{ imagine = 0.05, upscale = 0.02 }}")
    prices = []
    for key, amount in value.items():
        name = str(key).lower()
        if not _PRICE_KEY.match(name):
            raise ConfigError(f"{where}: {key!r} is not an action name, or action.mode (e.g. imagine.relax)")
        prices.append((name, _number(amount, f"{where} {key}", minimum=0)))
    return tuple(prices)


def load_config(path: Path | None = None) -> Config:
    """Read the TOML file if there is one; a missing file means the defaults."""
    path = path or config_path()
    profiles = _builtin_profiles()
    config = Config(path=path, profiles=profiles)
    if not path.exists():
        return config
    import tomllib  # only where there is a file to read (not on a first start)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    config.exists = True
    for name, table in (data.get("profiles") or {}).items():
        profiles[name] = _profile_from_table(name, table, path)
    if "default_profile" in data:
        config.default_profile = str(data["default_profile"])
        if config.default_profile not in profiles:
            raise ConfigError(f"{path}: default_profile {config.default_profile!r} is not a profile")
    ui = data.get("ui") or {}
    if "theme" in ui:
        config.theme = str(ui["theme"])
    if "graphics" in ui:
        graphics = str(ui["graphics"]).lower()
        if graphics not in GRAPHICS_CHOICES:
            raise ConfigError(f"{path} [ui] graphics: {graphics!r} is not one of {', '.join(GRAPHICS_CHOICES)}")
        config.graphics = graphics
    if "cursor_blink" in ui:
        if not isinstance(ui["cursor_blink"], bool):
            raise ConfigError(f"{path} [ui] cursor_blink: expected true or false")
        config.cursor_blink = ui["cursor_blink"]
    if "download_dir" in ui:
        config.download_dir = Path(str(ui["download_dir"])).expanduser()
    hooks = data.get("webhooks") or {}
    if not isinstance(hooks, dict) or set(hooks) - {"listen", "public_url"}:
        raise ConfigError(f'{path} [webhooks]: takes listen = "HOST:PORT" and public_url = "https://…"')
    if "listen" in hooks:
        config.webhook_listen = str(hooks["listen"])
    if "public_url" in hooks:
        config.webhook_public_url = str(hooks["public_url"])
    keymap = data.get("keymap") or {}
    if not isinstance(keymap, dict):
        raise ConfigError(f"{path}: [keymap] must map binding ids to keys")
    config.keymap = {str(k): str(v) for k, v in keymap.items()}
    return config


def resolve_profile(
    config: Config,
    name: str | None = None,
    *,
    provider: str | ProviderKind | None = None,
    base_url: str | None = None,
) -> Profile:
    """Pick a profile and apply the command-line overrides on top of it."""
    if name is None and provider is not None:
        # `--provider mjproxy` alone: a profile of that dialect (its own name, key and URL)
        # rather than the default profile wearing another dialect
        kind = _enum(provider, ProviderKind, "--provider")
        default = config.profiles.get(config.default_profile)
        if default is None or default.provider != kind:
            same = [p for p in config.profiles.values() if p.provider == kind]
            same.sort(key=lambda p: p.name != kind.value)  # the one named after the dialect first
            if same:
                name = same[0].name
    name = name or config.default_profile
    if name not in config.profiles:
        known = ", ".join(sorted(config.profiles))
        raise ConfigError(f"no profile named {name!r} (known: {known})")
    profile = config.profiles[name]
    if provider is not None:
        kind = _enum(provider, ProviderKind, "--provider")
        if kind != profile.provider:
            fresh = default_profile(name, kind)
            profile = replace(fresh, poll_interval=profile.poll_interval, page_size=profile.page_size)
    if base_url:
        profile = replace(profile, base_url=base_url.rstrip("/"))
    return profile


SAMPLE_CONFIG = """\
# mj-tui configuration. Every setting is optional.
default_profile = "ohmygpt"

[ui]
theme = "textual-dark"      # any Textual theme name
graphics = "auto"           # auto | tgp | sixel | halfcell | unicode | none
cursor_blink = false        # a blinking cursor costs a redraw twice a second over SSH
# download_dir = "~/Pictures/mj-tui"

[profiles.ohmygpt]
provider = "ohmygpt"
base_url = "https://api.ohmygpt.com"
default_mode = "fast"       # fast | relax
poll_interval = 3
queue_limit = 3             # 20 for VIP, 50 for premium accounts

[profiles.maxapi]
provider = "mjproxy"
base_url = "https://api.maxapi.ai"
path_template = "/mj-{mode}/mj"   # "/mj" for a self-hosted midjourney-proxy
default_mode = "relax"      # fast | relax | turbo
# queue_limit = 3           # jobs the queue runs at once (3 when unset)
# daily_cap = 5             # the queue spends at most this much a day, in price_unit
# price_unit = "$"
# [profiles.maxapi.prices]  # per job, for the queue's estimates and caps
# imagine = 0.05
# "imagine.relax" = 0.03
# upscale = 0.02

# [webhooks]                # for a box the provider can reach: callbacks instead of polling alone
# listen = "0.0.0.0:8765"
# public_url = "https://mj.example.com"   # when the provider must call another address

# [keymap]
# submit = "ctrl+s"
"""
