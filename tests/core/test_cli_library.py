"""The library's commands as a user runs them: sync, search, star, tag (real processes,
real HTTP to the emulator, the real store on disk)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support.keys import fresh_key


def run(*args, key=None):
    env = dict(os.environ)
    env.pop("MJ_TUI_API_KEY", None)
    if key:
        env["MJ_TUI_API_KEY"] = key
    return subprocess.run([sys.executable, "-m", "mj_tui", *args], capture_output=True, text=True, env=env, timeout=120)


def test_sync_then_search_star_and_tag(emulator, control):
    key = fresh_key()
    control.post("/_emulator/history", json={"key": key, "count": 45})
    base = ["--provider", "ohmygpt", "--base-url", emulator]
    synced = run(*base, "sync", key=key)
    assert synced.returncode == 0, synced.stderr
    assert "up to date: 45 task(s) stored, 45 new" in synced.stdout
    assert "3 request(s)" in synced.stderr and "45 of 45" in synced.stderr  # progress on stderr

    found = run(*base, "search", "status:done", "--json", "--limit", "5")  # local: no key needed
    assert found.returncode == 0, found.stderr
    page = json.loads(found.stdout)
    assert page["shown"] == 5 and page["total"] >= 40
    first = page["tasks"][0]
    assert set(first) >= {"id", "prompt", "status", "starred", "tags"}

    starred = run(*base, "star", first["id"])
    assert starred.returncode == 0 and starred.stdout.rstrip().endswith("*")
    tagged = run(*base, "tag", first["id"], "Food", "#best")
    assert tagged.returncode == 0 and "#best #food" in tagged.stdout
    mine = run(*base, "search", "is:starred tag:food")
    assert mine.returncode == 0
    assert first["id"] in mine.stdout and mine.stdout.rstrip().endswith("1 found")

    # a sync after that keeps them
    assert run(*base, "sync", key=key).returncode == 0
    again = json.loads(run(*base, "search", "tag:best", "--json").stdout)
    assert [t["id"] for t in again["tasks"]] == [first["id"]] and again["tasks"][0]["starred"] is True

    untagged = run(*base, "tag", first["id"], "food", "--remove")
    assert untagged.returncode == 0 and "#food" not in untagged.stdout
    assert run(*base, "star", first["id"], "--off").stdout.rstrip().endswith("#best")
    assert json.loads(run(*base, "search", "is:starred", "--json").stdout)["total"] == 0


def test_bad_queries_and_names_are_usage_errors_with_a_pointer(emulator):
    base = ["--base-url", emulator]
    bad = run(*base, "search", "ramen colour:red")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "Unknown search term" in bad.stderr and "  ramen colour:red\n        ^^^^^^^" in bad.stderr
    value = run(*base, "search", "since:someday")
    assert value.returncode == 2 and "since:" in value.stderr
    assert run(*base, "search", "x", "--limit", "0").returncode == 2
    missing = run(*base, "star", "424242")
    assert missing.returncode == 1 and "not in the local history" in missing.stderr
    name = run(*base, "tag", "424242", "no spaces allowed")
    assert name.returncode == 2 and "not a tag" in name.stderr


def test_search_output_is_sanitized(emulator, tmp_path):
    from mj_tui.core.history import namespace_for
    from mj_tui.core.models import ProviderKind, Status, Task
    from mj_tui.launch import build_launch

    launch = build_launch(profile=None, provider="mjproxy", base_url=emulator, demo=False, graphics=None)
    history = launch.open_history()
    evil = Task(
        id="77", provider=ProviderKind.MJPROXY, status=Status.SUCCESS, prompt="ramen \x1b]52;c;AAAA\x07 \x1b[2J"
    )
    history.upsert(namespace_for(launch.profile), [evil])
    history.close()
    out = run("--provider", "mjproxy", "--base-url", emulator, "search", "ramen")
    assert out.returncode == 0 and "77" in out.stdout
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
