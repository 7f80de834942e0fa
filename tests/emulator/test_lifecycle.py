"""Task lifecycle on the emulated clock, observed through both dialects."""

from __future__ import annotations

import httpx
import pytest
from emu_helpers import client_for, mj_fetch, mj_submit, omg_ok, omg_task

JOB = 10.0


@pytest.fixture
def slow(make_emu, key: str):
    """An emulator with 10 s jobs and a frozen clock."""
    with client_for(make_emu(job_seconds=JOB), key) as c:
        assert c.post("/_emulator/clock", json={"freeze": True}).json()["frozen"] is True
        yield c


def advance(c: httpx.Client, seconds: float) -> float:
    return c.post("/_emulator/clock", json={"advance": seconds}).json()["now"]


def test_ohmygpt_states_progress_and_billing(slow: httpx.Client, key: str) -> None:
    tid = omg_ok(slow, "imagine", prompt="slow sunrise")
    seen = []
    for step in [0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]:
        advance(slow, step)
        t = omg_task(slow, tid)
        seen.append((t["status"], t["progress"]))
        if t["status"] != "SUCCESS":
            assert t["imageDcUrl"] is None and t["imageS3Url"] is None and t["actions"] == []
            assert t["finishTime"] is None
    statuses = [s for s, _ in seen]
    assert statuses[0] == "NOT_START" and "SUBMITTED" in statuses and "IN_PROGRESS" in statuses
    assert statuses[-1] == "SUCCESS"
    assert seen[0] == ("NOT_START", "0%")
    progress = [int(p.rstrip("%")) for _, p in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert any(0 < p < 100 for s, p in zip(statuses, progress, strict=True) if s == "IN_PROGRESS")
    assert {p for s, p in seen if s == "IN_PROGRESS"} <= {"15%", "31%", "46%", "62%", "78%", "93%"}
    done = omg_task(slow, tid)
    assert done["startTime"] is not None and done["finishTime"] > done["startTime"] >= done["submitTime"]


def test_billing_happens_when_the_job_succeeds(slow: httpx.Client, key: str) -> None:
    def balance() -> str:
        return slow.post("/api/v1/user/admin/balance").json()["data"]["balance"]

    omg_ok(slow, "imagine", prompt="billed later")
    advance(slow, JOB / 2)
    assert balance() == "1000000.00"
    advance(slow, JOB)
    assert balance() == "986000.00"


def test_mjproxy_states_and_times(slow: httpx.Client) -> None:
    tid = mj_submit(slow, "imagine", prompt="slow moon")["result"]
    first = mj_fetch(slow, tid)
    assert (first["status"], first["progress"]) == ("NOT_START", "0%")
    assert first["startTime"] is None and first["finishTime"] is None
    advance(slow, 1.0)
    submitted = mj_fetch(slow, tid)
    assert submitted["status"] == "SUBMITTED" and isinstance(submitted["startTime"], int)
    advance(slow, 3.0)
    running = mj_fetch(slow, tid)
    assert running["status"] == "IN_PROGRESS" and 0 < int(running["progress"].rstrip("%")) < 100
    assert running["imageUrl"] is None and running["buttons"] == []
    advance(slow, JOB)
    done = mj_fetch(slow, tid)
    assert done["status"] == "SUCCESS" and done["progress"] == "100%" and done["finishTime"] >= done["startTime"]


def test_instant_jobs_succeed_on_first_read_unless_the_clock_is_frozen(make_emu, key: str) -> None:
    with client_for(make_emu(job_seconds=0), key) as c:
        tid = omg_ok(c, "imagine", prompt="instant")
        assert omg_task(c, tid)["status"] == "SUCCESS"
        # A frozen clock stops the world: nothing progresses until it is advanced.
        c.post("/_emulator/clock", json={"freeze": True})
        held = omg_ok(c, "imagine", prompt="held")
        assert omg_task(c, held)["status"] == "NOT_START"
        advance(c, 0.001)
        assert omg_task(c, held)["status"] == "SUCCESS"


def test_clock_route_and_monotonic_unfreeze(emu: str) -> None:
    with httpx.Client(base_url=emu) as c:
        frozen = c.post("/_emulator/clock", json={"freeze": True}).json()
        assert frozen["frozen"] is True
        assert c.get("/_emulator/clock").json()["now"] == frozen["now"]
        later = advance(c, 100)
        assert later == pytest.approx(frozen["now"] + 100)
        resumed = c.post("/_emulator/clock", json={"freeze": False}).json()
        assert resumed["frozen"] is False and later <= resumed["now"] < later + 5  # no jump over the pause
        assert c.post("/_emulator/clock", json={"advance": -1}).status_code == 400
        assert c.post("/_emulator/reset").json() == {"ok": True}


def test_engine_clock_hook_is_reachable_for_in_process_tests(make_emu, key: str) -> None:
    url = make_emu(job_seconds=JOB)
    engine = url.engine  # running_emulator yields a str that also carries the app and engine
    assert engine is url.app.state.engine
    engine.clock.freeze(True)
    with client_for(url, key) as c:
        tid = omg_ok(c, "imagine", prompt="hooked")
        engine.clock.advance(JOB / 2)
        assert omg_task(c, tid)["status"] == "IN_PROGRESS"
        engine.clock.advance(JOB)
        assert omg_task(c, tid)["status"] == "SUCCESS"


def test_start_time_gives_a_frozen_deterministic_clock():
    from mj_tui.emulator import EmulatorConfig, create_app

    def snapshot():
        engine = create_app(EmulatorConfig(start_time=1_780_000_000.0, seed_history=5, demo_key="k")).state.engine
        assert engine.clock.frozen and engine.clock.now() == 1_780_000_000.0
        return sorted((key, task.submit_at, task.hash) for key, task in engine.tasks.items())

    first = snapshot()
    assert first and first == snapshot()
