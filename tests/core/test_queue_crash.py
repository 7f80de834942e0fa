"""`mj-tui batch FILE` killed for real (SIGKILL) at each point of a job's life, then run
again: it resumes, and every prompt is submitted exactly once.

Real processes, real HTTP to the emulator, the queue read back from the history's file
the processes shared. Where the answer to a request never came, midjourney-proxy's job
is left `unknown` for a person (never sent again by itself); OhMyGPT's is found by its
prompt in the account's list and followed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import run
from test_errors import inject, sent

SUBMIT = {"ohmygpt": "/imagine", "mjproxy": "/submit/imagine"}


@pytest.fixture(autouse=True)
def quick_polls():
    """Profiles that poll five times a second: a resumed batch is followed in a blink."""
    path = Path(os.environ["MJ_TUI_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'default_profile = "ohmygpt"\n'
        '[profiles.ohmygpt]\nprovider = "ohmygpt"\npoll_interval = 0.2\n'
        '[profiles.mjproxy]\nprovider = "mjproxy"\npoll_interval = 0.2\n'
    )


def prompt_file(tmp_path: Path, prompts: list[str], extra: str = "") -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text(extra + "".join(p + "\n" for p in prompts))
    return path


def batch_args(provider: str, url: str, path: Path, *more: str) -> list[str]:
    return ["--provider", provider, "--base-url", url, "batch", str(path), "--yes", *more]


def start_batch(provider: str, url: str, path: Path, key: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mj_tui", *batch_args(provider, url, path)],
        env={**os.environ, "MJ_TUI_API_KEY": key},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def queue_states() -> dict[str, int]:
    """The queue's jobs by state, read from the history's file as the CLI left it."""
    path = Path(os.environ["MJ_TUI_DATA_DIR"]) / "history.sqlite3"
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return dict(db.execute("SELECT state, COUNT(*) FROM queue_jobs GROUP BY state").fetchall())
    except sqlite3.OperationalError:  # the table is not there yet
        return {}


def wait_until(proc: subprocess.Popen, what, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert proc.poll() is None, f"the batch ended early (exit {proc.returncode})"
        assert time.monotonic() < deadline, f"not reached in {timeout}s; queue {queue_states()}"
        time.sleep(0.02)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def made(control, provider: str) -> int:
    return int(control.get("/_emulator/state").json()["tasks"][provider])


def server_prompts(url: str, key: str) -> list[str]:
    """The account's imagines in OhMyGPT's own list (the CLI's `tasks`, all of a page)."""
    listed = run("--base-url", url, "tasks", "--json", "--page-size", "20", key=key)
    assert listed.returncode == 0, listed.stderr
    return [t["prompt"] for t in json.loads(listed.stdout)["tasks"] if t["action"] == "IMAGINE"]


@pytest.mark.parametrize("provider", ["ohmygpt", "mjproxy"])
def test_killed_before_any_send_the_next_run_sends_each_prompt_once(emulator, control, tmp_path, provider):
    key = f"sk-crash-before-{provider}-{tmp_path.name}"
    control.post("/_emulator/clock", json={"freeze": True})
    for n in range(3):  # three tasks sent by hand, unfinished: every slot is taken
        busy = run("--provider", provider, "--base-url", emulator, "imagine", f"by hand {n}", key=key)
        assert busy.returncode == 0, busy.stderr
    before, made_before = sent(control, SUBMIT[provider]), made(control, provider)
    prompts = [f"before any send {n}" for n in range(4)]
    path = prompt_file(tmp_path, prompts)
    proc = start_batch(provider, emulator, path, key)
    wait_until(proc, lambda: queue_states() == {"queued": 4})
    polled = sent(control, "")
    wait_until(proc, lambda: sent(control, "") > polled)  # it is waiting, polling for a slot
    kill(proc)
    assert sent(control, SUBMIT[provider]) == before and queue_states() == {"queued": 4}
    control.post("/_emulator/clock", json={"freeze": False})
    again = run(*batch_args(provider, emulator, path), key=key)
    assert again.returncode == 0, again.stderr
    assert "resuming batch" in again.stderr
    assert queue_states() == {"done": 4}
    assert sent(control, SUBMIT[provider]) == before + 4 and made(control, provider) == made_before + 4
    if provider == "ohmygpt":
        assert sorted(p for p in server_prompts(emulator, key) if p.startswith("before")) == prompts


def test_killed_while_a_request_is_out_on_midjourney_proxy_the_job_is_unknown_and_never_resent(
    emulator, control, tmp_path
):
    key = f"sk-crash-out-proxy-{tmp_path.name}"
    prompts = ["in flight one", "in flight two", "in flight three"]
    path = prompt_file(tmp_path, prompts)
    made_before = made(control, "mjproxy")
    # the server makes the task at once and holds its answer back: the process dies waiting
    inject(control, {"kind": "slow_answer", "seconds": 10}, path_contains=SUBMIT["mjproxy"])
    proc = start_batch("mjproxy", emulator, path, key)
    wait_until(proc, lambda: sent(control, SUBMIT["mjproxy"]) == 1)
    kill(proc)
    assert queue_states() == {"sending": 1, "queued": 2}
    again = run(*batch_args("mjproxy", emulator, path), key=key)
    assert again.returncode == 1, again.stderr  # a job waits for a person
    assert queue_states() == {"unknown": 1, "done": 2}
    assert sent(control, SUBMIT["mjproxy"]) == 3 and made(control, "mjproxy") == made_before + 3
    third = run(*batch_args("mjproxy", emulator, path), key=key)  # and again: still not resent
    assert third.returncode == 1 and "nothing left to run" in third.stderr
    assert sent(control, SUBMIT["mjproxy"]) == 3
    listed = run("--provider", "mjproxy", "--base-url", emulator, "queue", "--json", key=key)
    unknown = [j for j in json.loads(listed.stdout)["jobs"] if j["state"] == "unknown"]
    assert [j["prompt"] for j in unknown] == ["in flight one"] and unknown[0]["error"]


def test_killed_while_a_request_is_out_on_ohmygpt_the_job_is_found_by_its_prompt(emulator, control, tmp_path):
    key = f"sk-crash-out-omg-{tmp_path.name}"
    prompts = ["found again one", "found again two", "found again three"]
    path = prompt_file(tmp_path, prompts)
    inject(control, {"kind": "slow_answer", "seconds": 10}, path_contains=SUBMIT["ohmygpt"])
    proc = start_batch("ohmygpt", emulator, path, key)
    wait_until(proc, lambda: sent(control, SUBMIT["ohmygpt"]) == 1)
    kill(proc)
    again = run(*batch_args("ohmygpt", emulator, path), key=key)
    assert again.returncode == 0, again.stderr
    assert queue_states() == {"done": 3}
    assert sent(control, SUBMIT["ohmygpt"]) == 3
    assert sorted(server_prompts(emulator, key)) == sorted(prompts)


@pytest.mark.parametrize("provider", ["ohmygpt", "mjproxy"])
def test_killed_while_jobs_run_the_next_run_follows_them_without_sending_again(emulator, control, tmp_path, provider):
    key = f"sk-crash-running-{provider}-{tmp_path.name}"
    control.post("/_emulator/clock", json={"freeze": True})  # sent, then never finished
    prompts = [f"running when killed {n}" for n in range(5)]
    path = prompt_file(tmp_path, prompts)
    before = sent(control, SUBMIT[provider])
    proc = start_batch(provider, emulator, path, key)
    wait_until(proc, lambda: queue_states() == {"submitted": 3, "queued": 2})
    kill(proc)
    control.post("/_emulator/clock", json={"freeze": False})
    again = run(*batch_args(provider, emulator, path), key=key)
    assert again.returncode == 0, again.stderr
    assert queue_states() == {"done": 5}
    assert sent(control, SUBMIT[provider]) == before + 5
    if provider == "ohmygpt":
        assert sorted(server_prompts(emulator, key)) == sorted(prompts)
    done = run(*batch_args(provider, emulator, path), key=key)  # a finished file: nothing to do
    assert done.returncode == 0 and "nothing left to run" in done.stderr
    assert sent(control, SUBMIT[provider]) == before + 5


def test_a_file_with_a_refused_line_queues_nothing_and_exits_2_unless_told_to_skip(emulator, control, tmp_path):
    key = f"sk-crash-usage-{tmp_path.name}"
    path = prompt_file(tmp_path, ["a fine owl", "an owl --ar 0:1", "another fine owl"])
    refused = run(*batch_args("ohmygpt", emulator, path), key=key)
    assert refused.returncode == 2 and "prompts.txt:2:" in refused.stderr
    assert queue_states() == {} and sent(control, SUBMIT["ohmygpt"]) == 0
    skipped = run(*batch_args("ohmygpt", emulator, path, "--skip-bad", "--json"), key=key)
    assert skipped.returncode == 0, skipped.stderr
    lines = [json.loads(line) for line in skipped.stdout.splitlines()]
    assert lines and all({"job", "state", "prompt", "message", "time"} <= set(line) for line in lines)
    assert {line["prompt"] for line in lines} == {"a fine owl", "another fine owl"}
    assert [line["state"] for line in lines if line["prompt"] == "a fine owl"][-1] == "done"
    assert sent(control, SUBMIT["ohmygpt"]) == 2


def test_a_failed_job_makes_the_batch_exit_1(emulator, control, tmp_path):
    key = f"sk-crash-failed-{tmp_path.name}"
    path = prompt_file(tmp_path, ["a calm lake", "a forbidden lake"])
    result = run(*batch_args("mjproxy", emulator, path, "--json"), key=key)
    assert result.returncode == 1
    last = {}
    for line in result.stdout.splitlines():
        event = json.loads(line)
        last[event["prompt"]] = event
    assert last["a calm lake"]["state"] == "done"
    assert last["a forbidden lake"]["state"] == "failed" and "forbidden" in last["a forbidden lake"]["error"]


def test_the_queue_commands_steer_the_same_queue(emulator, control, tmp_path):
    key = f"sk-queue-commands-{tmp_path.name}"
    base = ["--provider", "mjproxy", "--base-url", emulator, "queue"]

    def queue(*args: str):
        return run(*base, *args, key=key)

    added = queue("add", "steered one", "steered two", "steered three")  # queued, not sent
    assert added.returncode == 0, added.stderr
    ids = {j["prompt"]: j["job"] for j in json.loads(queue("list", "--json").stdout)["jobs"]}
    assert queue("cancel", str(ids["steered two"])).returncode == 0
    assert queue("up", str(ids["steered three"])).returncode == 0
    assert queue("up", str(ids["steered three"])).returncode == 1  # at the head already
    assert sent(control, SUBMIT["mjproxy"]) == 0
    ran = queue("run")
    assert ran.returncode == 0, ran.stderr
    sending = [line.split("] ", 1)[1] for line in ran.stderr.splitlines() if "[sending]" in line]
    assert sending == ["steered three", "steered one"]  # moved to the head, it went first
    assert "2 done, 1 cancelled" in ran.stderr
    assert sent(control, SUBMIT["mjproxy"]) == 2
