"""The CLI makes the TUI's checks, refuses what the TUI refuses, and behaves in a pipe.

Real processes, real HTTP to the emulator: what a script sees.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from test_cli import run

PROVIDERS = ["ohmygpt", "mjproxy"]


def submits(control: httpx.Client) -> int:
    """Submit requests the emulator has seen (imagine, action, modal...), never reads."""
    requests = control.get("/_emulator/state").json()["requests"]
    verbs = ("imagine", "action", "blend", "describe", "shorten", "modal")
    return sum(n for path, n in requests.items() if "/submit/" in path or path.rsplit("/", 1)[-1] in verbs)


def base(url: str, provider: str) -> list[str]:
    return ["--provider", provider, "--base-url", url]


def made(url: str, provider: str, key: str, prompt: str, upscale: int | None = None) -> list:
    """Set-up, not under test: a finished grid (and one of its upscales) made by the client
    in this process, on the same account the CLI then uses (Tasks)."""
    import asyncio
    import tempfile
    from dataclasses import replace

    from mj_tui.core.config import default_profile
    from mj_tui.core.credentials import Secret
    from mj_tui.core.history import History
    from mj_tui.core.images import ImageCache
    from mj_tui.core.models import ProviderKind
    from mj_tui.core.service import MjService

    async def make() -> list:
        scratch = Path(tempfile.mkdtemp(prefix="mj-setup-"))
        profile = replace(default_profile("setup", ProviderKind(provider)), base_url=url, poll_interval=0.01)
        history = History(scratch / "h.sqlite3")
        async with MjService(
            profile, Secret(key), history=history, images=ImageCache(scratch / "i"), close_history=True
        ) as service:
            grid = await service.wait((await service.imagine(prompt)).id, timeout=30)
            tasks = [grid]
            if upscale:
                button = next(b for b in grid.buttons if b.label == f"U{upscale}" or b.index == upscale)
                single = (await service.press(grid, button)).task
                tasks.append(await service.wait(single.id, timeout=30))
            return tasks

    return asyncio.run(make())


def done(url: str, provider: str, key: str, *args: str) -> dict:
    out = run(*base(url, provider), *args, "--wait", "--json", key=key)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_prompt_the_tui_refuses_is_refused_and_nothing_is_paid(emulator, control, provider):
    before = submits(control)
    bad = run(*base(emulator, provider), "imagine", "a fox --ar 3:2:1", key=f"sk-refuse-{provider}")
    assert bad.returncode == 2 and "--ar must be W:H" in bad.stderr
    # a known range is an error even with a model the client does not know
    wide = run(*base(emulator, provider), "imagine", "a fox --ar 3:2 --stylize 99999 --v 99")
    assert wide.returncode == 2 and "--stylize must be 0–1000" in wide.stderr, wide.stderr
    assert submits(control) == before
    assert "Traceback" not in bad.stderr + wide.stderr


@pytest.mark.parametrize("provider", PROVIDERS)
def test_permutations_make_one_job_each_and_many_need_yes(emulator, control, provider):
    key = f"sk-perm-{provider}"
    before = submits(control)
    out = run(*base(emulator, provider), "imagine", "a {red, blue} fox", key=key)
    assert out.returncode == 0, out.stderr
    assert "a red fox" in out.stdout and "a blue fox" in out.stdout and "{" not in out.stdout
    assert submits(control) == before + 2
    many = run(*base(emulator, provider), "imagine", "{a,b,c,d,e} fox", key=key)
    assert many.returncode == 2 and "5 paid jobs" in many.stderr and "--yes" in many.stderr
    assert submits(control) == before + 2  # nothing more was sent


def test_custom_zoom_is_checked_before_it_is_pressed(emulator, control):
    key = "sk-cz"
    _, upscale = made(emulator, "mjproxy", key, "a heron", upscale=2)
    before = submits(control)
    bare = run(*base(emulator, "mjproxy"), "action", upscale.id, "Custom Zoom", key=key)
    assert bare.returncode == 2 and "--zoom" in bare.stderr and "--mask" not in bare.stderr
    wrong = run(*base(emulator, "mjproxy"), "action", upscale.id, "Custom Zoom", "--prompt", "x --zoom 3", key=key)
    assert wrong.returncode == 2 and "1 to 2" in wrong.stderr
    assert submits(control) == before  # no task left waiting in MODAL on the server
    zoomed = done(emulator, "mjproxy", key, "action", upscale.id, "Custom Zoom", "--prompt", "a heron --zoom 1.5")
    assert zoomed["status"] == "SUCCESS"


def test_custom_zoom_on_ohmygpt_is_refused_up_front(emulator, control):
    key = "sk-cz-omg"
    _, upscale = made(emulator, "ohmygpt", key, "a crane", upscale=1)
    before = submits(control)
    out = run(*base(emulator, "ohmygpt"), "action", upscale.id, "Custom Zoom", "--prompt", "x --zoom 2", key=key)
    assert out.returncode == 2 and "no Custom Zoom" in out.stderr
    assert submits(control) == before


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_quadrant_of_an_upscale_is_refused(emulator, tmp_path, provider):
    key = f"sk-quad-{provider}"
    _, upscale = made(emulator, provider, key, "tiles", upscale=3)
    folder = tmp_path / "out"
    out = run(*base(emulator, provider), "download", upscale.id, "-o", str(folder), "--quadrant", "2", key=key)
    assert out.returncode == 2 and "not a grid" in out.stderr
    assert not folder.exists()


@pytest.mark.parametrize("command", [["task"], ["tasks"]])
def test_a_reader_that_leaves_early_is_no_error(emulator, command):
    key = "sk-pipe"
    (grid,) = made(emulator, "ohmygpt", key, "piped owl")
    args = [*command, grid.id] if command == ["task"] else command
    env = {**os.environ, "MJ_TUI_API_KEY": key}
    # `mj-tui task ID | head -1`: the reader takes a line and goes
    proc = subprocess.Popen(
        [sys.executable, "-m", "mj_tui", "--base-url", emulator, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_page_size_and_page_out_of_range(emulator):
    key = "sk-pages"
    for n in range(3):
        made(emulator, "ohmygpt", key, f"page owl {n}")
    small = run("--base-url", emulator, "tasks", "--page-size", "2", key=key)
    assert small.returncode == 0 and "5 to 20" in small.stderr
    past = run("--base-url", emulator, "tasks", "--page", "99", key=key)
    assert past.returncode == 2 and "no page 99" in past.stderr and "page 99 of" not in past.stdout


@pytest.mark.parametrize("provider", PROVIDERS)
def test_blend_describe_shorten_and_balance(emulator, tmp_path, provider):
    key = f"sk-more-{provider}"
    for name, colour in (("a", "red"), ("b", "blue")):
        Image.new("RGB", (64, 64), colour).save(tmp_path / f"{name}.png")
    blend = done(emulator, provider, key, "blend", str(tmp_path / "a.png"), str(tmp_path / "b.png"))
    assert blend["status"] == "SUCCESS" and blend["action"] == "BLEND"
    described = run(*base(emulator, provider), "describe", str(tmp_path / "a.png"), "--wait", key=key)
    assert described.returncode == 0, described.stderr
    assert [line for line in described.stdout.splitlines() if line.startswith("prompt 4:")]
    one = run(*base(emulator, provider), "blend", str(tmp_path / "a.png"), key=key)
    assert one.returncode == 2 and "2 to 5" in one.stderr
    shorten = run(*base(emulator, provider), "shorten", "a very long prompt about a lake", "--wait", key=key)
    balance = run(*base(emulator, provider), "balance", "--json", key=key)
    if provider == "mjproxy":
        assert shorten.returncode == 0 and "prompt 1:" in shorten.stdout, shorten.stderr
        assert balance.returncode == 2 and "balance" in balance.stderr
    else:
        assert shorten.returncode == 2 and "/shorten" in shorten.stderr
        assert balance.returncode == 0 and float(json.loads(balance.stdout)["balance"]) > 0


def test_dismiss_a_task_that_waits_for_its_prompt(emulator):
    key = "sk-dismiss"
    _, upscale = made(emulator, "mjproxy", key, "a kettle", upscale=1)
    zoom = next(b.custom_id for b in upscale.buttons if b.custom_id.startswith("MJ::CustomZoom::"))
    # pressed by another client, never sent its prompt: the task waits on the server
    answer = httpx.post(
        f"{emulator}/mj/submit/action",
        json={"taskId": upscale.id, "customId": zoom},
        headers={"mj-api-secret": key},
    ).json()
    assert answer["code"] == 21
    waiting = json.loads(run(*base(emulator, "mjproxy"), "task", answer["result"], "--json", key=key).stdout)
    assert waiting["status"] == "MODAL"
    out = run(*base(emulator, "mjproxy"), "dismiss", answer["result"], "--json", key=key)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "CANCEL"
    again = run(*base(emulator, "mjproxy"), "dismiss", answer["result"], key=key)
    assert again.returncode == 1 and "nothing to dismiss" in again.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_emulator_command_seeds_the_account_it_names(tmp_path):
    port = _free_port()
    help_text = run("emulator", "--help", key=None).stdout
    assert "--remix" in help_text and "--demo-key" in help_text and "--seed-history" in help_text
    proc = subprocess.Popen(
        [sys.executable, "-m", "mj_tui", "emulator", "--port", str(port), "--seed-history", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        said = proc.stdout.readline() + proc.stdout.readline()
        key = said.split("MJ_TUI_API_KEY=", 1)[1].split()[0]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:  # until it accepts connections
            try:
                httpx.get(url + "/_emulator/state", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, said
                time.sleep(0.05)
        listing = run("--base-url", url, "tasks", "--json", key=key)
        assert listing.returncode == 0, listing.stderr
        assert json.loads(listing.stdout)["total"] == 7
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_json_output_escapes_what_a_terminal_would_obey():
    from mj_tui.cli import json_text

    text = json_text({"description": "queue \x1b[2J\x9b31m\x07 full\u202e"})
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text and "\u202e" not in text
    assert json.loads(text) == {"description": "queue \x1b[2J\x9b31m\x07 full\u202e"}  # the data is kept


def test_readme_emulator_key_is_the_seeded_one():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "MJ_TUI_API_KEY=sk-demo" in readme
