"""Pictures of the real app at 80x24 and 120x40 (pytest-textual-snapshot).

Plain `def` tests: snap_compare runs the App itself.  Update after looking at
the report: `pytest tests/ui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest
import scenes

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_finished_grid(snap_compare, tmp_path, size):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=size, run_before=scenes.finished_grid)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_mid_job(snap_compare, tmp_path, size):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=size, run_before=scenes.mid_job)


def test_zoomed_quadrant(snap_compare, tmp_path):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=(120, 40), run_before=scenes.zoomed_quadrant)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_gallery(snap_compare, tmp_path, size):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=size, run_before=scenes.gallery)


def test_library_search(snap_compare, tmp_path):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=(120, 40), run_before=scenes.library_search)


def test_help(snap_compare, tmp_path):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=(120, 40), run_before=scenes.help_screen)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_welcome_without_keyring(snap_compare, tmp_path, size):
    # the root conftest installs the null keyring: the headless/SSH case
    assert snap_compare(scenes.scene_app(tmp_path, with_key=False), terminal_size=size, run_before=scenes.welcome)


def test_mjproxy_finished_grid(snap_compare, tmp_path):
    assert snap_compare(
        scenes.scene_app(tmp_path, provider="mjproxy"), terminal_size=(120, 40), run_before=scenes.mjproxy_first_grid
    )


# -- dialogs ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_region_dialog(snap_compare, tmp_path, size):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=size, run_before=scenes.region_dialog)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_blend_dialog(snap_compare, tmp_path, size):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=size, run_before=scenes.blend_dialog)


def test_describe_results(snap_compare, tmp_path):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=(120, 40), run_before=scenes.describe_results)


def test_permutations_confirm(snap_compare, tmp_path):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=(80, 24), run_before=scenes.permutations_confirm)


def test_composer_lint_and_suggest(snap_compare, tmp_path):
    assert snap_compare(
        scenes.scene_app(tmp_path), terminal_size=(120, 40), run_before=scenes.composer_lint_and_suggest
    )


def test_queue_view_80x24(snap_compare, tmp_path):
    assert snap_compare(scenes.scene_app(tmp_path), terminal_size=(80, 24), run_before=scenes.queue_view)


def test_video_batch(snap_compare, tmp_path):
    app = scenes.scene_app(tmp_path, provider="mjproxy")
    assert snap_compare(app, terminal_size=(120, 40), run_before=scenes.video_batch)
