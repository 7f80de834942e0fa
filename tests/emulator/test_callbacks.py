"""Callbacks and cancel, over real HTTP both ways: the emulator POSTs a hooked task's JSON to
a loopback receiver of the tests' own (raw bytes in, scripted answers out), and
midjourney-proxy's cancel turns an unfinished task into a FAILURE."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from emu_helpers import OMG, client_for
from support.hostile import RELEASE, Hostile, answer, ok

PROXY = "/mj"
NOT_ADMIN = "演示模式，禁止操作"
CANCELLED = "取消任务"


@pytest.fixture
def receiver() -> Iterator[Hostile]:
    RELEASE.clear()
    server = Hostile()
    server.route("/hook", ok({"ok": True}))
    yield server
    RELEASE.set()
    server.close()


def wait_for(check: Callable[[], object], timeout: float = 15.0) -> object:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def bodies(server: Hostile) -> list[dict]:
    return [json.loads(s.body) for s in list(server.seen) if s.path == "/hook"]


def deliveries(url: str) -> list[dict]:
    return httpx.get(f"{url}/_emulator/hooks").json()["deliveries"]


def proxy_imagine(c: httpx.Client, prompt: str, **fields: object) -> str:
    r = c.post(f"{PROXY}/submit/imagine", json={"prompt": prompt, **fields})
    assert r.status_code == 200 and r.json()["code"] in (1, 22), r.text
    return r.json()["result"]


def fetch(c: httpx.Client, task_id: str, prefix: str = PROXY) -> dict:
    r = c.get(f"{prefix}/task/{task_id}/fetch")
    assert r.status_code == 200, r.text
    return r.json()


# -- callbacks ----------------------------------------------------------------------


def test_proxy_posts_the_task_json_on_each_change_until_it_ends(make_emu, key, receiver):
    url = make_emu(job_seconds=0.8)
    hook = receiver.url("/hook?token=s3cret&x=1")
    with client_for(url, key) as c:
        task_id = proxy_imagine(c, "a lighthouse", notifyHook=hook)
        wait_for(lambda: any(b["status"] == "SUCCESS" for b in bodies(receiver)))
        final = fetch(c, task_id)
    seen = bodies(receiver)
    assert all(b["id"] == task_id for b in seen)
    assert len(seen) >= 2  # at least one state before the end
    assert [b["status"] for b in seen][-1] == "SUCCESS"
    # the same Task object its fetch returns, and never the same state twice in a row
    assert set(seen[-1]) == set(final) and seen[-1]["imageUrl"] == final["imageUrl"]
    states = [(b["status"], b["progress"]) for b in seen]
    assert all(a != b for a, b in itertools.pairwise(states))
    # the query string goes with every delivery, and it is a JSON POST
    hooks = [s for s in receiver.seen if s.path == "/hook"]
    assert {s.query for s in hooks} == {"token=s3cret&x=1"}
    assert {s.method for s in hooks} == {"POST"}
    assert all(s.headers["content-type"].startswith("application/json") for s in hooks)


def test_ohmygpt_posts_the_bare_task_object(make_emu, key, receiver):
    url = make_emu()
    with client_for(url, key) as c:
        r = c.post(
            f"{OMG}/imagine",
            json={"model": "midjourney", "prompt": "a fox", "type": "FAST", "webhook": receiver.url("/hook?t=1")},
        )
        task_id = r.json()["data"]
        wait_for(lambda: any(b.get("status") == "SUCCESS" for b in bodies(receiver)))
        query = c.post(f"{OMG}/query", json={"model": "midjourney", "taskId": str(task_id)}).json()["data"]
    last = bodies(receiver)[-1]
    assert "statusCode" not in last and "data" not in last  # no envelope: the task itself
    assert last["taskId"] == task_id and last["imageS3Url"] == query["imageS3Url"]
    assert last["webhookUrl"] == receiver.url("/hook?t=1")
    assert set(last) == set(query)


def test_a_failing_hook_is_tried_again(make_emu, key, receiver):
    url = make_emu(hook_backoff=0.01)
    receiver.route("/hook", answer(500, {"error": "busy"}), ok({"ok": True}))
    with client_for(url, key) as c:
        task_id = proxy_imagine(c, "a retried fox", notifyHook=receiver.url("/hook?k=v"))
    record = wait_for(lambda: [d for d in deliveries(url) if d["taskId"] == task_id])[0]
    assert record["url"] == receiver.url("/hook")  # recorded without its query
    assert record["attempts"] == 2 and record["delivered"] and record["httpStatus"] == 200
    assert record["taskStatus"] == "SUCCESS"
    assert receiver.requests_to("/hook") == 2


def test_unreachable_and_broken_hooks_are_recorded_and_harmless(make_emu, key):
    url = make_emu(hook_backoff=0.01, hook_timeout=1.0)
    dead = f"http://127.0.0.1:{free_port()}/hook?z=1"
    with client_for(url, key) as c:
        dead_id = proxy_imagine(c, "a lost fox", notifyHook=dead)
        junk_id = proxy_imagine(c, "a junk fox", notifyHook="ftp://nowhere/x")

        def both() -> dict[str, dict]:
            found = {d["taskId"]: d for d in deliveries(url)}
            return found if dead_id in found and junk_id in found else {}

        records = wait_for(both)
        assert records[dead_id]["attempts"] == 3 and not records[dead_id]["delivered"]
        assert records[dead_id]["httpStatus"] is None
        assert records[junk_id]["attempts"] == 1 and not records[junk_id]["delivered"]
        # the emulator goes on serving
        assert fetch(c, dead_id)["status"] == "SUCCESS"


def test_follow_up_tasks_inherit_no_hook(make_emu, key, receiver):
    url = make_emu()
    with client_for(url, key) as c:
        parent = proxy_imagine(c, "a parent fox", notifyHook=receiver.url("/hook"))
        done = wait_for(lambda: fetch(c, parent)["status"] == "SUCCESS" and fetch(c, parent))
        u1 = next(b["customId"] for b in done["buttons"] if b["label"] == "U1")
        r = c.post(f"{PROXY}/submit/action", json={"taskId": parent, "customId": u1})
        child = r.json()["result"]
        assert fetch(c, child)["status"] == "SUCCESS"
        wait_for(lambda: any(d["taskId"] == parent for d in deliveries(url)))
        state = httpx.get(f"{url}/_emulator/hooks").json()
    assert state["watching"] == 0
    assert all(d["taskId"] != child for d in state["deliveries"])
    assert all(b["id"] == parent for b in bodies(receiver))


def test_proxy_refuses_an_overlong_hook(make_emu, key):
    url = make_emu()
    with client_for(url, key) as c:
        r = c.post(f"{PROXY}/submit/imagine", json={"prompt": "x", "notifyHook": "http://a/" + "x" * 2000})
    assert r.json()["code"] == 4 and "notifyHook" in r.json()["description"]


# -- cancel -------------------------------------------------------------------------


def test_cancel_fails_a_running_task_and_frees_its_worker(make_emu, key):
    url = make_emu(job_seconds=60, proxy_concurrency=1)
    with client_for(url, key) as c:
        running = proxy_imagine(c, "a long fox")
        r = c.post(f"{PROXY}/task/{running}/cancel")
        assert r.status_code == 200 and r.content == b""
        task = fetch(c, running)
        assert task["status"] == "FAILURE" and task["failReason"] == CANCELLED
        assert task["progress"] == "" and task["finishTime"] is not None
        # its worker is free: the next job starts now, not after the cancelled one's minute
        r = c.post(f"{PROXY}/submit/imagine", json={"prompt": "the next fox"})
        assert r.json()["code"] == 1, r.text
        httpx.post(f"{url}/_emulator/clock", json={"freeze": True, "advance": 30})
        assert fetch(c, r.json()["result"])["status"] == "IN_PROGRESS"


def test_cancel_leaves_finished_and_unknown_tasks_alone(make_emu, key):
    url = make_emu()
    with client_for(url, key) as c:
        done = proxy_imagine(c, "a quick fox")
        assert fetch(c, done)["status"] == "SUCCESS"
        for task_id in (done, "1234567890123"):
            r = c.post(f"/mj-relax{PROXY}/task/{task_id}/cancel")  # the mode prefixes too
            assert r.status_code == 200 and r.content == b""
        assert fetch(c, done)["status"] == "SUCCESS"


def test_cancel_ends_a_task_waiting_for_its_dialog(make_emu, key):
    url = make_emu(remix=True)
    with client_for(url, key) as c:
        parent = proxy_imagine(c, "a remixed fox")
        v1 = next(b["customId"] for b in fetch(c, parent)["buttons"] if b["label"] == "V1")
        r = c.post(f"{PROXY}/submit/action", json={"taskId": parent, "customId": v1})
        assert r.json()["code"] == 21
        modal = r.json()["result"]
        assert fetch(c, modal)["status"] == "MODAL"
        assert c.post(f"{PROXY}/task/{modal}/cancel").status_code == 200
        task = fetch(c, modal)
        assert task["status"] == "FAILURE" and task["failReason"] == CANCELLED
        r = c.post(f"{PROXY}/submit/modal", json={"taskId": modal, "prompt": "too late"})
        assert r.json()["code"] == 4


def test_cancel_by_an_ordinary_user_is_refused_in_plain_text(make_emu, key):
    url = make_emu(job_seconds=60, proxy_admin=False)
    with client_for(url, key) as c:
        running = proxy_imagine(c, "a stubborn fox")
        r = c.post(f"{PROXY}/task/{running}/cancel")
        assert r.status_code == 400 and r.text == NOT_ADMIN
        assert r.headers["content-type"].startswith("text/plain")
        assert fetch(c, running)["status"] != "FAILURE"


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
