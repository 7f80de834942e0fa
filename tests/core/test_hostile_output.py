"""Server text never drives the terminal: what a hostile server sends reaches no output raw.

The hostile server of test_hostile.py answers the CLI (real processes) and the TUI (Pilot)
with escape sequences in every field a person sees: ids, actions, prompts, fail reasons,
button labels and customIds, parent ids, refusal descriptions. Nothing on stdout, stderr or
any pane may carry a control character; `--json` keeps the data, escaped; no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.hostile import CONTROL, OMG, PROXY, Hostile, answer, list_body, ok

# what an audit found doing harm: clear the screen, retitle the window, write the clipboard,
# a one-byte CSI, a bidi override
EVIL = "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\x9b31m\u202e"
KEY = "sk-hostile-output-1"


def evil_task(dialect: str, task_id: str = "777") -> dict[str, object]:
    task: dict[str, object] = {
        "status": "FAILURE",
        "progress": "100%",
        "prompt": f"a fox {EVIL}",
        "action": f"IMAGINE{EVIL}",
        "failReason": f"refused {EVIL}",
        "description": f"desc {EVIL}",
        "imageUrl": f"https://cdn.example/{EVIL}.png",
        "parentId": f"12{EVIL}",
        "buttons": [{"customId": f"MJ::JOB::upsample::1::abc{EVIL}", "label": f"U1{EVIL}", "emoji": EVIL}],
        "actions": [{"customId": f"MJ::JOB::upsample::1::abc{EVIL}", "label": f"U1{EVIL}", "emoji": EVIL}],
    }
    task["taskId" if dialect == "ohmygpt" else "id"] = task_id
    return task


@pytest.fixture
def hostile():
    api = Hostile()
    yield api
    api.close()


def cli(api: Hostile, dialect: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MJ_TUI_API_KEY": KEY}
    return subprocess.run(
        [sys.executable, "-m", "mj_tui", "--provider", dialect, "--base-url", api.origin, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def clean_output(out: subprocess.CompletedProcess[str]) -> None:
    for name, text in (("stdout", out.stdout), ("stderr", out.stderr)):
        found = CONTROL.search(text.replace("\n", "").replace("\t", ""))
        assert found is None, f"{name} carries {found.group()!r}: {text!r}"
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("dialect", ["ohmygpt", "mjproxy"])
def test_a_refusal_with_escapes_reaches_stderr_harmless(hostile, dialect):
    status, body = (
        (400, {"statusCode": 400, "message": f"queue {EVIL}"})
        if dialect == "ohmygpt"
        else (
            200,
            {"code": 4, "description": f"queue {EVIL}", "result": None},
        )
    )
    hostile.route("/imagine", answer(status, body))
    out = cli(hostile, dialect, "imagine", "a calm fox")
    assert out.returncode == 1
    clean_output(out)
    assert "queue" in out.stderr


@pytest.mark.parametrize("dialect", ["ohmygpt", "mjproxy"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_task_with_escapes_everywhere_prints_harmless(hostile, dialect, as_json):
    data = evil_task(dialect)
    if dialect == "ohmygpt":
        hostile.route(f"{OMG}/query", ok({"statusCode": 200, "data": data}))
    else:
        hostile.route(f"{PROXY}/task/777/fetch", ok(data))
    out = cli(hostile, dialect, "task", "777", *(["--json"] if as_json else []))
    assert out.returncode == 1  # a failed task: the script's exit code says so
    clean_output(out)
    if as_json:  # the data is kept, with its controls escaped as JSON does
        printed = json.loads(out.stdout)
        assert printed["prompt"] == f"a fox {EVIL}" and printed["fail_reason"] == f"refused {EVIL}"
    else:
        assert "a fox" in out.stdout and "refused" in out.stdout


def test_a_page_with_escapes_lists_harmless(hostile):
    hostile.route(f"{OMG}/query-mj-tasks", ok(list_body("ohmygpt", [evil_task("ohmygpt", str(n)) for n in (1, 2)])))
    out = cli(hostile, "ohmygpt", "tasks")
    assert out.returncode == 0, out.stderr
    clean_output(out)
    assert out.stdout.count("a fox") == 2
