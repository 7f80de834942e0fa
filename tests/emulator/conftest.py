"""Shared fixtures: emulators on real loopback sockets and raw httpx clients.

These tests deliberately use no mj_tui.core code: they pin the wire format the
emulator speaks, written from the provider docs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from emu_helpers import SMALL, client_for
from support.keys import fresh_key

from mj_tui.emulator import EmulatorConfig, running_emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[str]:
    """One emulator per test module (instant jobs, small grids)."""
    with running_emulator(EmulatorConfig(grid_size=SMALL)) as url:
        yield url


@pytest.fixture
def make_emu() -> Iterator[Callable[..., str]]:
    """Start an extra emulator with a custom config; stopped after the test."""
    with ExitStack() as stack:

        def start(**fields: object) -> str:
            fields.setdefault("grid_size", SMALL)
            return stack.enter_context(running_emulator(EmulatorConfig(**fields)))

        yield start


@pytest.fixture
def key() -> str:
    """A fresh API key per test, so tasks and ledgers never leak between tests."""
    return fresh_key()


@pytest.fixture
def client(emu: str, key: str) -> Iterator[httpx.Client]:
    with client_for(emu, key) as c:
        yield c
    httpx.post(f"{emu}/_emulator/reset")
