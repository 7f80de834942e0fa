"""UI test fixtures: a real emulator on loopback, a Launch pointing at it, helpers.

The root conftest already points MJ_TUI_CONFIG / MJ_TUI_DATA_DIR /
MJ_TUI_CACHE_DIR at tmp paths and installs a null keyring for every test.
"""

from __future__ import annotations

import sys
from unittest import mock

import pytest

# textual-image asks the terminal about graphics support when imported; under
# pytest that terminal may be the developer's own.  No stdin: no questions.
with mock.patch.object(sys, "__stdin__", None):
    from textual_image._terminal import CellSize, get_cell_size

    get_cell_size._result = CellSize(10, 20)
    import textual_image.renderable
    import textual_image.widget  # noqa: F401

from mj_tui.emulator import EmulatorConfig, running_emulator
from mj_tui.ui.graphics import load_graphics

PROVIDERS = ["ohmygpt", "mjproxy"]


@pytest.fixture(scope="session")
def graphics():
    return load_graphics("halfcell")


@pytest.fixture(scope="module")
def emulator():
    """One real HTTP emulator per module, its URL; a fresh API key per test keeps tests apart
    (`control`, in the root conftest, talks to its test-control routes)."""
    config = EmulatorConfig(job_seconds=0, grid_size=256, seed_history=24, demo_key="sk-history")
    with running_emulator(config) as url:
        yield url


@pytest.fixture(autouse=True)
def pictures_and_terminal(tmp_path, monkeypatch):
    """Saved pictures go to a tmp folder; no tmux, no display, no SSH (tests set what they need)."""
    monkeypatch.setenv("MJ_TUI_DOWNLOAD_DIR", str(tmp_path / "pictures"))
    for name in ("TMUX", "DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY", "BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "pictures"
