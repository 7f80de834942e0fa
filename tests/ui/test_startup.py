"""Start-up: collections are held until the first frame, and always come back."""

from __future__ import annotations

import gc

import pytest
from support.keys import fresh_key
from ui_helpers import make_app, make_launch, wait_for

from mj_tui.ui import gc_tuning


@pytest.fixture
def held():
    was = gc.isenabled()
    gc_tuning.hold_for_startup()
    yield
    gc_tuning.startup_done()
    if was:
        gc.enable()


@pytest.mark.parametrize("with_key", [True, False], ids=["main screen", "welcome screen"])
async def test_collections_resume_once_the_first_frame_is_out(held, emulator, tmp_path, graphics, with_key):
    assert not gc.isenabled()
    launch = make_launch(tmp_path, emulator, key=fresh_key() if with_key else None)
    app = make_app(launch, graphics)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, gc.isenabled, what="collections back on")
        assert gc.isenabled()


def test_release_is_idempotent_and_leaves_a_disabled_collector_alone(held):
    gc_tuning.startup_done()
    gc_tuning.startup_done()
    assert gc.isenabled()
    gc.disable()  # someone else's choice (a debugger, say): not ours to undo
    try:
        gc_tuning.hold_for_startup()
        gc_tuning.startup_done()
        assert not gc.isenabled()
    finally:
        gc.enable()
