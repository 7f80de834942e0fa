"""`mj-tui download --sidecar` and `mj-tui export` as a script runs them: a real process,
real HTTP to the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import run

from mj_tui.core.images import read_metadata


def made(emulator: str, prompt: str, key: str) -> dict:
    """A finished grid, made by the CLI itself (so it is in the CLI's local history)."""
    out = run("--base-url", emulator, "imagine", prompt, "--wait", "--json", key=key)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_download_with_a_sidecar(emulator, tmp_path):
    task = made(emulator, "a lighthouse at dusk", "sk-cli-sidecar")
    out = run("--base-url", emulator, "download", task["id"], "-o", str(tmp_path), "--sidecar", key="sk-cli-sidecar")
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip())
    sidecar = json.loads(path.with_suffix(".json").read_text("utf-8"))
    assert sidecar["file"] == path.name and sidecar["task_id"] == task["id"]
    assert sidecar["prompt"] == "a lighthouse at dusk" and sidecar["provider"] == "OhMyGPT"
    assert read_metadata(path)["prompt"] == "a lighthouse at dusk"
    plain = run("--base-url", emulator, "download", task["id"], "-o", str(tmp_path / "plain"), key="sk-cli-sidecar")
    assert plain.returncode == 0 and not Path(plain.stdout.strip()).with_suffix(".json").exists()


def test_export_all_then_again(emulator, tmp_path):
    key = "sk-cli-export-all"
    tasks = [made(emulator, prompt, key) for prompt in ("a red fox", "a blue whale")]
    folder = tmp_path / "pictures"
    first = run("--base-url", emulator, "export", "--all", "-o", str(folder), key=key)
    assert first.returncode == 0, first.stderr
    saved = [Path(line) for line in first.stdout.splitlines()]
    assert len(saved) == 2 and all(p.parent == folder and p.is_file() for p in saved)
    assert {read_metadata(p)["task_id"] for p in saved} == {t["id"] for t in tasks}
    assert any(p.name.endswith(f"-a-red-fox-{tasks[0]['id']}.png") for p in saved)
    assert "2 saved, 0 already there" in first.stderr and "Traceback" not in first.stderr
    assert "1/2" in first.stderr and "2/2" in first.stderr  # progress, one line per task

    again = run("--base-url", emulator, "export", "--all", "-o", str(folder), "--json", key=key)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["saved"] == [] and sorted(report["skipped"]) == sorted(map(str, saved))
    assert report["failed"] == {} and report["stopped"] is None
    assert "0 saved, 2 already there" in again.stderr


def test_export_ids_reports_what_it_could_not_fetch(emulator, tmp_path):
    key = "sk-cli-export-ids"
    task = made(emulator, "a paper crane", key)
    folder = tmp_path / "out"
    out = run(
        "--base-url", emulator, "export", "--id", task["id"], "--id", "424242", "-o", str(folder), "--json", key=key
    )
    assert out.returncode == 1, out.stderr  # something asked for is missing
    report = json.loads(out.stdout)
    assert len(report["saved"]) == 1 and list(report["failed"]) == ["424242"]
    assert "could not export 424242" in out.stderr and "Traceback" not in out.stderr

    cells = run("--base-url", emulator, "export", "--id", task["id"], "-o", str(folder), "--quadrants", key=key)
    assert cells.returncode == 0, cells.stderr
    assert [Path(p).name[-7:] for p in cells.stdout.split()] == ["-u1.png", "-u2.png", "-u3.png", "-u4.png"]
    grids = run("--base-url", emulator, "export", "--id", task["id"], "-o", str(folder), "--upscales-only", key=key)
    assert grids.returncode == 0 and grids.stdout == "" and "left out 1 (a grid (upscales only))" in grids.stderr


def test_export_usage_and_folder_errors(emulator, tmp_path):
    key = "sk-cli-export-usage"
    task = made(emulator, "a tin robot", key)
    nothing = run("--base-url", emulator, "export", "-o", str(tmp_path), key=key)
    assert nothing.returncode == 2 and "--all" in nothing.stderr
    both = run("--base-url", emulator, "export", "--all", "--id", "1", "-o", str(tmp_path), key=key)
    assert both.returncode == 2
    clash = run("--base-url", emulator, "export", "--all", "--upscales-only", "--quadrants", "-o", "x", key=key)
    assert clash.returncode == 2 and "--quadrants" in clash.stderr
    (tmp_path / "file").write_text("x")
    blocked = run("--base-url", emulator, "export", "--id", task["id"], "-o", str(tmp_path / "file" / "d"), key=key)
    assert blocked.returncode == 1 and "Cannot" in blocked.stderr and "Traceback" not in blocked.stderr


def test_export_query_exports_what_the_search_finds(emulator, tmp_path):
    key = "sk-cli-export-search"
    fox, owl = made(emulator, "a sly fox", key), made(emulator, "a wise owl", key)
    base = ["--base-url", emulator]
    assert run(*base, "star", fox["id"], key=key).returncode == 0
    assert run(*base, "tag", fox["id"], "Forest", "#cute", key=key).returncode == 0

    out = run(*base, "export", "fox is:starred", "-o", str(tmp_path), "--sidecar", "--json", key=key)
    assert out.returncode == 0, out.stderr
    saved = [Path(p) for p in json.loads(out.stdout)["saved"]]
    assert [read_metadata(p)["task_id"] for p in saved] == [fox["id"]] != [owl["id"]]
    story = read_metadata(saved[0])
    assert story["tags"] == "cute\nforest" and story["starred"] == "true"
    sidecar = json.loads(saved[0].with_suffix(".json").read_text("utf-8"))
    assert sidecar["tags"] == ["cute", "forest"] and sidecar["starred"] is True

    none = run(*base, "export", "tag:nothing", "-o", str(tmp_path), key=key)
    assert none.returncode == 0 and none.stdout == "" and "0 saved" in none.stderr
    bad = run(*base, "export", "fox colour:red", "-o", str(tmp_path / "never"), key=key)
    assert bad.returncode == 2 and "Unknown search term" in bad.stderr and "^^^" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "never").exists()
