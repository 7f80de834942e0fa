"""Bulk export over real HTTP to the emulator: names, resuming, the cache, expired links."""

from __future__ import annotations

import errno
import os
import re
import time
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from mj_tui.core.images import FolderError, read_metadata
from mj_tui.core.images.export import PART_SUFFIX, check_writable, folder_problem
from mj_tui.core.models import Task
from mj_tui.core.service import ExportProgress, MjService


def image_requests(control, tasks: list[Task]) -> int:
    """Requests the emulator received for these tasks' images (every URL of each)."""
    paths = {urlsplit(url).path for task in tasks for url in task.image_urls}
    counts = control.get("/_emulator/state").json()["requests"]
    return sum(n for path, n in counts.items() if path in paths)


def expire(control, task: Task) -> None:
    """Every link to the task's image answers 404 (as an expired CDN link does)."""
    for url in task.image_urls:
        body = {"next": [{"kind": "http", "status": 404}] * 4, "path_contains": urlsplit(url).path}
        assert control.post("/_emulator/faults", json=body).status_code == 200


async def finished(service: MjService, prompt: str) -> Task:
    return await service.wait((await service.imagine(prompt)).id, timeout=30)


async def upscaled(service: MjService, grid: Task, n: int) -> Task:
    button = next(b for b in grid.buttons if b.label == f"U{n}" or (b.index == n and "upsample" in b.custom_id))
    single = (await service.press(grid, button)).task
    assert single is not None
    return await service.wait(single.id, timeout=30)


def expected_name(task: Task, slug: str, quadrant: int | None = None) -> str:
    assert task.submit_time is not None
    day = task.submit_time.astimezone(UTC).strftime("%Y-%m-%d")
    return f"{day}-{slug}-{task.id}" + (f"-u{quadrant}" if quadrant else "") + ".png"


async def test_export_names_resumes_and_never_fetches_twice(service, control, tmp_path):
    grid = await finished(service, "a red fox in the snow --ar 3:2")
    single = await upscaled(service, grid, 2)
    out = tmp_path / "export"
    seen: list[ExportProgress] = []

    first = await service.export_many([grid, single], out, sidecar=True, on_progress=seen.append)
    assert first.ok and not first.skipped and not first.failed
    assert sorted(p.name for p in first.saved) == sorted(
        [expected_name(grid, "a-red-fox-in-the-snow"), expected_name(single, "a-red-fox-in-the-snow")]
    )
    assert [(p.done, p.total) for p in seen] == [(1, 2), (2, 2)]
    assert {p.outcome for p in seen} == {"saved"} and {p.current for p in seen} == {grid.id, single.id}
    for path in first.saved:
        story = read_metadata(path)
        assert story["task_id"] in (grid.id, single.id) and story["prompt"] == grid.prompt
        assert path.with_suffix(".json").is_file()
    fetched = image_requests(control, [grid, single])
    assert fetched >= 2

    # a second run skips what is there: nothing fetched, nothing written
    again = await service.export_many([grid, single], out)
    assert again.saved == [] and again.skipped == first.saved and again.ok
    assert sorted(os.listdir(out)) == sorted([p.name for p in first.saved] + [p.stem + ".json" for p in first.saved])

    # another folder: the cached images are saved again, never downloaded again
    other = await service.export_many([single, grid, grid], tmp_path / "other")
    assert len(other.saved) == 2
    assert image_requests(control, [grid, single]) == fetched


async def test_a_file_of_the_same_name_that_is_not_the_task_is_kept(service, tmp_path):
    grid = await finished(service, "an owl at night")
    out = tmp_path / "export"
    out.mkdir()
    squatter = out / expected_name(grid, "an-owl-at-night")
    squatter.write_bytes(b"someone else's file")
    report = await service.export_many([grid], out)
    assert squatter.read_bytes() == b"someone else's file"
    assert [p.name for p in report.saved] == [squatter.stem + " (2).png"]
    assert (await service.export_many([grid], out)).skipped == report.saved


async def test_an_expired_link_is_reported_and_the_rest_exported(service, control, tmp_path):
    good = await finished(service, "a bright meadow")
    gone = await finished(service, "a vanished castle")
    expire(control, gone)
    report = await service.export_many([gone, good], tmp_path / "out")
    assert [p.name for p in report.saved] == [expected_name(good, "a-bright-meadow")]
    assert list(report.failed) == [gone.id] and report.failed[gone.id]
    assert report.stopped is None and not report.ok
    control.post("/_emulator/reset")  # the link works again: the next run fetches only the missing one
    again = await service.export_many([gone, good], tmp_path / "out")
    assert [p.name for p in again.saved] == [expected_name(gone, "a-vanished-castle")]
    assert again.skipped == report.saved


async def test_upscales_only_and_quadrants(service, tmp_path):
    grid = await finished(service, "four tiles")
    single = await upscaled(service, grid, 1)
    only = await service.export_many([grid, single], tmp_path / "u")
    assert len(only.saved) == 2
    ups = await service.export_many([grid, single], tmp_path / "ups", upscales_only=True)
    assert [p.name for p in ups.saved] == [expected_name(single, "four-tiles")]
    assert ups.left_out == {grid.id: "a grid (upscales only)"}

    cells = await service.export_many([grid], tmp_path / "q", quadrants=True)
    assert [p.name for p in cells.saved] == [expected_name(grid, "four-tiles", n) for n in (1, 2, 3, 4)]
    with Image.open(only.saved[0] if grid.id in only.saved[0].name else only.saved[1]) as whole:
        width, height = whole.size
    for n, path in enumerate(cells.saved, start=1):
        assert read_metadata(path)["quadrant"] == str(n)
        with Image.open(path) as cell:
            assert cell.size == (width // 2, height // 2)
    assert (await service.export_many([grid], tmp_path / "q", quadrants=True)).skipped == cells.saved


async def test_unfinished_tasks_are_left_out(service, tmp_path):
    grid = await finished(service, "a quiet lake")
    running = grid.with_(id="999000111", status=grid.status.__class__("IN_PROGRESS"))
    report = await service.export_many([running, grid], tmp_path / "out")
    assert len(report.saved) == 1 and list(report.left_out) == ["999000111"]
    assert "not finished" in report.left_out["999000111"]


@pytest.mark.parametrize("problem", ["read-only", "a file in the way"])
async def test_a_folder_that_cannot_take_files_is_refused_before_any_fetch(service, control, tmp_path, problem):
    grid = await finished(service, "a locked room")
    if problem == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder")
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        expected = re.compile("Cannot write in")
    else:
        (tmp_path / "file").write_text("x")
        folder = tmp_path / "file" / "out"
        expected = re.compile("a file|part of that path is a file")
    with pytest.raises(FolderError, match=expected):
        await service.export_many([grid], folder)
    assert image_requests(control, [grid]) == 0
    assert service.images.cached(service.image_key(grid)) is None


async def test_a_damaged_cached_image_fails_alone(service, tmp_path):
    good = await finished(service, "a green hill")
    bad = await finished(service, "a broken mirror")
    await service.fetch_image(bad)
    path = Path(service.images.path_for(service.image_key(bad)))
    path.write_bytes(path.read_bytes()[:200])  # cut short on disk after it was checked
    report = await service.export_many([bad, good], tmp_path / "out")
    # the cache sees the damage and fetches the image again, whole; had it failed, the report
    # would say so for that task alone. Either way no broken or half-written file is left.
    assert report.stopped is None and len(report.saved) + len(report.failed) == 2
    for saved in report.saved:
        with Image.open(saved) as image:
            image.load()
    assert not list((tmp_path / "out").glob(".*"))


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (errno.EROFS, "Cannot write in"),
        (errno.EACCES, "Cannot write in"),
        (errno.ENOSPC, "is full"),
        (errno.EDQUOT, "is full"),
    ],
)
def test_what_a_folder_problem_says(tmp_path, code, says):
    # the read-only and full-disk cases cannot be made for real here (root writes anywhere,
    # and no disk is filled): what the person is told for each is checked on its own
    problem = folder_problem(tmp_path, OSError(code, os.strerror(code)))
    assert isinstance(problem, FolderError) and says in problem.message and str(tmp_path) in problem.message


def test_a_half_written_file_left_by_a_killed_run_is_swept(tmp_path):
    stale = tmp_path / f".0123456789abcdef{PART_SUFFIX}"
    fresh = tmp_path / f".fedcba9876543210{PART_SUFFIX}"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"another run's, still writing")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    check_writable(tmp_path)
    assert not stale.exists() and fresh.exists()
