"""Shared fixtures: emulators on real loopback sockets and raw httpx clients.

These tests deliberately use no mj_tui.core code: they pin the wire format the
emulator speaks, written from the provider docs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from emu_helpers import SMALL, client_for

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
    return f"sk-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client(emu: str, key: str) -> Iterator[httpx.Client]:
    with client_for(emu, key) as c:
        yield c
    httpx.post(f"{emu}/_emulator/reset")
