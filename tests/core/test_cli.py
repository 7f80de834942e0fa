"""The scripting CLI as a user runs it: a real process, real HTTP to the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from mj_tui.core.images import crop_quadrant

SUPPORT = Path(__file__).parent.parent / "support"


def run(*args, key="sk-cli-test", env_extra=None, stdin=None, timeout=60):
    env = dict(os.environ)
    env.pop("MJ_TUI_API_KEY", None)
    if key:
        env["MJ_TUI_API_KEY"] = key
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "mj_tui", *args], capture_output=True, text=True, env=env, input=stdin, timeout=timeout
    )


@pytest.mark.parametrize("provider", ["ohmygpt", "mjproxy"])
def test_imagine_wait_json_then_upscale_and_download(emulator, tmp_path, provider):
    base = ["--provider", provider, "--base-url", emulator]
    key = f"sk-cli-{provider}"
    done = run(*base, "imagine", "a red fox", "--wait", "--json", key=key)
    assert done.returncode == 0, done.stderr
    task = json.loads(done.stdout)
    assert task["status"] == "SUCCESS" and len(task["buttons"]) == 9
    assert [b["label"] or b["emoji"] for b in task["buttons"]] == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
    assert "SUCCESS" in done.stderr and "100%" in done.stderr  # progress goes to stderr

    grid = run(*base, "download", task["id"], "-o", str(tmp_path / "grid"), key=key)
    assert grid.returncode == 0, grid.stderr
    up = run(*base, "action", task["id"], "U2", "--wait", "--json", key=key)
    assert up.returncode == 0, up.stderr
    upscaled = json.loads(up.stdout)
    assert upscaled["status"] == "SUCCESS" and upscaled["parent_id"] == task["id"]
    saved = run(*base, "download", upscaled["id"], "-o", str(tmp_path / "u2"), key=key)
    assert saved.returncode == 0, saved.stderr
    path = Path(saved.stdout.strip())
    assert path.parent == tmp_path / "u2" and path.name.startswith(upscaled["id"]) and "red-fox" in path.name
    with Image.open(Path(grid.stdout.strip())) as g, Image.open(path) as u2:
        expected = crop_quadrant(g, 2).convert("RGB").resize(u2.size)
        diff = ImageStat.Stat(ImageChops.difference(expected, u2.convert("RGB"))).mean
        assert sum(diff) / 3 < 3


def test_download_one_quadrant_of_a_grid(emulator, tmp_path):
    done = json.loads(run("--base-url", emulator, "imagine", "tiles", "--wait", "--json").stdout)
    out = run("--base-url", emulator, "download", done["id"], "-o", str(tmp_path), "--quadrant", "3")
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip())
    assert path.name.endswith("-u3.png")
    with Image.open(path) as img:
        assert img.size[0] > 0


def test_tasks_and_task(emulator):
    key = "sk-cli-listing"
    first = json.loads(run("--base-url", emulator, "imagine", "listed owl", "--wait", "--json", key=key).stdout)
    listing = run("--base-url", emulator, "tasks", "--json", key=key)
    assert listing.returncode == 0, listing.stderr
    page = json.loads(listing.stdout)
    assert page["total"] >= 1 and page["tasks"][0]["id"] == first["id"]
    text = run("--base-url", emulator, "tasks", key=key)
    assert "page 1 of 1" in text.stdout and "listed owl" in text.stdout
    one = run("--base-url", emulator, "task", first["id"], key=key)
    assert one.returncode == 0 and "U2" in one.stdout and "MJ::JOB::upsample::2::" in one.stdout


def test_exit_codes(emulator):
    assert run("imagine").returncode == 2  # missing prompt: argparse usage
    no_key = run("--base-url", emulator, "imagine", "x", key=None)
    assert no_key.returncode == 2 and "MJ_TUI_API_KEY" in no_key.stderr
    banned = run("--base-url", emulator, "imagine", "a gore scene")
    assert banned.returncode == 1 and "gore" in banned.stderr and "Traceback" not in banned.stderr
    missing = run("--base-url", emulator, "task", "424242")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    wrong_button = json.loads(run("--base-url", emulator, "imagine", "btn", "--wait", "--json").stdout)
    bad = run("--base-url", emulator, "action", wrong_button["id"], "Z9")
    assert bad.returncode == 2 and "U1" in bad.stderr
    turbo = run("--base-url", emulator, "imagine", "x", "--mode", "turbo")
    assert turbo.returncode == 1 and "not offered by OhMyGPT" in turbo.stderr


def test_server_text_is_not_interpreted(emulator):
    prompt = "a [bold]cat[/bold] \x1b[31mred\x1b[0m"
    out = run("--base-url", emulator, "imagine", prompt, "--wait")
    assert out.returncode == 0, out.stderr
    assert "[bold]cat[/bold]" in out.stdout and "\x1b" not in out.stdout


def test_key_commands_with_a_keyring(tmp_path):
    env = {
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "PYTHONPATH": str(SUPPORT),
        "MJ_TUI_TEST_KEYRING": str(tmp_path / "keyring.json"),
    }
    secret = "sk-never-printed-0123456789"
    stored = run("key", "set", key=None, env_extra=env, stdin=secret + "\n")
    assert stored.returncode == 0, stored.stderr
    assert json.loads((tmp_path / "keyring.json").read_text()) == {"mj-tui/ohmygpt": secret}
    status = run("key", "status", key=None, env_extra=env)
    assert "set (keyring, …6789)" in status.stdout
    assert secret not in status.stdout + status.stderr + stored.stdout + stored.stderr
    gone = run("key", "delete", key=None, env_extra=env)
    assert gone.returncode == 0 and "deleted" in gone.stdout
    assert "not set" in run("key", "status", key=None, env_extra=env).stdout


def test_key_set_without_a_keyring_explains(tmp_path):
    out = run("key", "set", key=None, stdin="sk-abc\n")  # conftest selects the null backend
    assert out.returncode == 1
    assert "MJ_TUI_API_KEY" in out.stderr and "Traceback" not in out.stderr


def test_demo_flag_works_for_scripts():
    out = run("--demo", "imagine", "demo fox", "--wait", "--json", key=None, timeout=90)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "SUCCESS"
