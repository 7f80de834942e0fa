"""The two API dialects behind one :class:`Provider` interface."""

from __future__ import annotations

import httpx

from ..config import Profile
from ..credentials import Secret
from ..models import ProviderKind
from .base import Provider
from .mjproxy import MjProxyProvider
from .ohmygpt import OhMyGptProvider

__all__ = ["MjProxyProvider", "OhMyGptProvider", "Provider", "make_provider"]


def make_provider(
    profile: Profile, key: Secret | None, *, transport: httpx.AsyncBaseTransport | None = None
) -> Provider:
    cls = OhMyGptProvider if profile.provider == ProviderKind.OHMYGPT else MjProxyProvider
    return cls(profile, key, transport=transport)
