"""No paid request is lost: written down before it leaves, settled after a kill -9.

Real processes killed for real (SIGKILL) while their request is out, real HTTP to the
emulator, and the next run of the CLI finding what the dead one sent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_cli import run
from test_errors import inject, sent

from mj_tui.core.errors import HistoryNotWritable
from mj_tui.core.models import ProviderKind, Status

SUBMIT = {"ohmygpt": "/imagine", "mjproxy": "/submit/imagine"}


def killed_mid_submit(url: str, provider: str, key: str, prompt: str, control) -> None:
    """Start `mj-tui imagine`, and SIGKILL it once its request is at the server, unanswered."""
    before = sent(control, SUBMIT[provider])
    # the server makes the task at once and holds the answer back (a slow gateway)
    inject(control, {"kind": "slow_answer", "seconds": 30}, path_contains=SUBMIT[provider])
    proc = subprocess.Popen(
        [sys.executable, "-m", "mj_tui", "--provider", provider, "--base-url", url, "imagine", prompt],
        env={**os.environ, "MJ_TUI_API_KEY": key},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while sent(control, SUBMIT[provider]) == before:
        assert proc.poll() is None and time.monotonic() < deadline, "the request never reached the server"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_killed_while_sending_on_midjourney_proxy_the_next_run_lists_it_unconfirmed(emulator, control):
    key = "sk-killed-proxy"
    killed_mid_submit(emulator, "mjproxy", key, "a prompt sent by a dying process", control)
    before = sent(control, SUBMIT["mjproxy"])
    after = run("--provider", "mjproxy", "--base-url", emulator, "tasks", "--json", key=key)
    assert after.returncode == 0, after.stderr
    assert "was being sent when mj-tui stopped" in after.stderr
    listed = json.loads(after.stdout)["tasks"]
    unconfirmed = [t for t in listed if t["status"] == "UNCONFIRMED"]
    assert [t["prompt"] for t in unconfirmed] == ["a prompt sent by a dying process"]
    assert sent(control, SUBMIT["mjproxy"]) == before  # never resent by itself
    again = run("--provider", "mjproxy", "--base-url", emulator, "tasks", key=key)
    assert "was being sent" not in again.stderr  # settled once
    gone = run("--provider", "mjproxy", "--base-url", emulator, "dismiss", unconfirmed[0]["id"], key=key)
    assert gone.returncode == 0, gone.stderr


def test_killed_while_sending_on_ohmygpt_the_next_run_finds_the_task(emulator, control):
    key = "sk-killed-omg"
    killed_mid_submit(emulator, "ohmygpt", key, "a prompt the server made", control)
    before = sent(control, SUBMIT["ohmygpt"])
    after = run("--base-url", emulator, "tasks", "--json", key=key)
    assert after.returncode == 0, after.stderr
    assert "was found" in after.stderr
    tasks = json.loads(after.stdout)["tasks"]
    assert [t["prompt"] for t in tasks] == ["a prompt the server made"]  # once, the real one
    assert tasks[0]["status"] != "UNCONFIRMED"
    assert sent(control, SUBMIT["ohmygpt"]) == before


async def test_an_unwritable_history_sends_nothing(make_service, control):
    service = make_service(ProviderKind.MJPROXY)
    before = sent(control, SUBMIT["mjproxy"])
    # SQLite's own read-only switch: what a read-only file or a locked database answers
    # (file modes would not stop root, who runs CI here)
    service.journal._db.execute("PRAGMA query_only=ON")
    with pytest.raises(HistoryNotWritable, match="Nothing was sent"):
        await service.imagine("a cat nobody pays for")
    assert sent(control, SUBMIT["mjproxy"]) == before


async def test_an_unconfirmed_imagine_seen_on_the_first_page_later_is_settled(make_service, control):
    from mj_tui.core.errors import OutcomeUnknown

    service = make_service(ProviderKind.OHMYGPT, request_timeout=1.0)
    # the server makes the task but its answer is late, and the list it could be found in
    # fails just then (three 500s: every retry of the look-up)
    inject(control, {"kind": "slow_answer", "seconds": 3}, path_contains=SUBMIT["ohmygpt"])
    inject(control, *[{"kind": "http", "status": 500}] * 3, path_contains="query-mj-tasks")
    with pytest.raises(OutcomeUnknown) as info:
        await service.imagine("a slow cat")
    unconfirmed = info.value.task
    page = await service.page(1)  # the list answers now: the task is there
    assert [t.prompt for t in page.tasks if t.id != unconfirmed.id] == ["a slow cat"]
    settled = service.get_cached(unconfirmed.id)
    assert settled.status == Status.CANCEL and "it was sent" in settled.description
