"""`mj-tui video | edit | retexture | seed | upload | save-video`: real processes, real HTTP
to the emulator, the usual exit codes (0, 1 an API error, 2 bad usage)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from test_cli import run
from test_cli_checks import base, made

from mj_tui.core.images.videos import read_comment, video_kind


def picture(path, colour=(20, 160, 90)):
    Image.new("RGB", (40, 30), colour).save(path, "PNG")
    return path


def test_video_from_an_upscale_then_save_it(emulator, tmp_path):
    key = "sk-cli-video"
    _, single = made(emulator, "mjproxy", key, "a whale in the clouds", upscale=2)
    out = run(
        *base(emulator, "mjproxy"),
        "video",
        single.id,
        "--prompt",
        "it swims",
        "--motion",
        "high",
        "--batch",
        "2",
        "--wait",
        "--json",
        key=key,
    )
    assert out.returncode == 0, out.stderr
    task = json.loads(out.stdout)
    assert task["action"] == "VIDEO" and task["status"] == "SUCCESS" and len(task["video_urls"]) == 2
    assert task["parent_id"] == single.id
    saved = run(
        *base(emulator, "mjproxy"), "save-video", task["id"], "-o", str(tmp_path), "--index", "2", "--json", key=key
    )
    assert saved.returncode == 0, saved.stderr
    info = json.loads(saved.stdout)
    data = Path(info["path"]).read_bytes()
    assert video_kind(data) in ("mp4", "gif") and info["path"].endswith("-v2." + video_kind(data))
    assert info["prompt_inside"] is False or "it swims" in (read_comment(data) or "")
    shown = run(*base(emulator, "mjproxy"), "task", task["id"], key=key)
    assert "video 2:" in shown.stdout


def test_video_from_a_file_with_a_loop_and_plain_output(emulator, tmp_path):
    out = run(
        *base(emulator, "mjproxy"),
        "video",
        "--image",
        str(picture(tmp_path / "f.png")),
        "--loop",
        "--prompt",
        "leaves fall",
        "--wait",
        key="sk-cli-video-file",
    )
    assert out.returncode == 0, out.stderr
    assert "--end loop" in out.stdout and "video 4:" in out.stdout


def test_video_usage_errors_exit_2(emulator, tmp_path):
    cases = [
        ("video",),  # no first frame
        ("video", "123", "--image", "x.png"),  # two
        ("video", "--image", str(tmp_path / "missing.png")),
        ("video", "--image", str(tmp_path / "f.png"), "--batch", "3"),
    ]
    picture(tmp_path / "f.png")
    for args in cases:
        out = run(*base(emulator, "mjproxy"), *args, key="sk-cli-video-usage")
        assert out.returncode == 2, (args, out.stderr)
    omg = run(*base(emulator, "ohmygpt"), "video", "--image", str(tmp_path / "f.png"), key="sk-cli-video-usage")
    assert omg.returncode == 2 and "no videos" in omg.stderr


def test_edit_retexture_seed_and_upload(emulator, tmp_path):
    key = "sk-cli-edit"
    grid, single = made(emulator, "mjproxy", key, "a mountain shrine", upscale=1)
    edited = run(*base(emulator, "mjproxy"), "edit", single.id, "with snow", "--wait", "--json", key=key)
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["action"] == "EDIT"
    quadrant = run(*base(emulator, "mjproxy"), "retexture", grid.id, "in bronze", "--quadrant", "4", "--json", key=key)
    assert quadrant.returncode == 0, quadrant.stderr
    assert json.loads(quadrant.stdout)["action"] == "RETEXTURE"
    no_quadrant = run(*base(emulator, "mjproxy"), "retexture", grid.id, "in bronze", key=key)
    assert no_quadrant.returncode == 2 and "grid of four" in no_quadrant.stderr

    seed = run(*base(emulator, "mjproxy"), "seed", single.id, "--json", key=key)
    assert seed.returncode == 0, seed.stderr
    assert json.loads(seed.stdout)["seed"].isdigit()
    omg_seed = run(*base(emulator, "ohmygpt"), "seed", "42", key=key)
    assert omg_seed.returncode == 2 and "seeds" in omg_seed.stderr

    up = run(
        *base(emulator, "mjproxy"),
        "upload",
        str(picture(tmp_path / "a.png")),
        str(picture(tmp_path / "b.png")),
        "--json",
        key=key,
    )
    assert up.returncode == 0, up.stderr
    links = json.loads(up.stdout)
    assert [entry["url"].startswith("http") for entry in links] == [True, True]
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    refused = run(*base(emulator, "mjproxy"), "upload", str(bad), key=key)
    assert refused.returncode == 2 and "not a readable image" in refused.stderr
