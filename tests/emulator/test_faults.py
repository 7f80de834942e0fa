"""Fault injection: the deterministic queue, random rates and request counting."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from emu_helpers import OMG, client_for, omg, omg_ok

from mj_tui.emulator import EmulatorConfig, create_app


def inject(c: httpx.Client, *entries: dict, path_contains: str | None = None) -> None:
    body: dict = {"next": list(entries)}
    if path_contains:
        body["path_contains"] = path_contains
    assert c.post("/_emulator/faults", json=body).status_code == 200


def requests(c: httpx.Client) -> dict[str, int]:
    return c.get("/_emulator/state").json()["requests"]


def test_http_fault_then_normal_service(client: httpx.Client) -> None:
    inject(client, {"kind": "http", "status": 503})
    r = omg(client, "imagine", prompt="after an outage")
    assert r.status_code == 503 and r.json() == {"statusCode": 503, "message": "Service Unavailable", "data": None}
    assert isinstance(omg_ok(client, "imagine", prompt="after an outage"), int)
    inject(client, {"kind": "http", "status": 500})
    r = client.post("/mj/submit/imagine", json={"prompt": "x"})
    assert r.status_code == 500 and r.json()["type"] == "upstream_error"
    assert client.get("/_emulator/state").json()["tasks"]["ohmygpt"] >= 1


def test_rate_limit_has_retry_after_and_dialect_bodies(client: httpx.Client) -> None:
    inject(client, {"kind": "rate_limit", "retry_after": 2}, {"kind": "rate_limit", "retry_after": 3})
    r = client.post("/mj/submit/imagine", json={"prompt": "x"})
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert r.json() == {"description": "当前分组负载已饱和，请稍后再试", "type": "upstream_error", "code": 30}
    r = omg(client, "imagine", prompt="x")
    assert r.status_code == 429 and r.headers["retry-after"] == "3" and r.json()["statusCode"] == 429


def test_malformed_returns_a_truncated_body(client: httpx.Client) -> None:
    inject(client, {"kind": "malformed"})
    r = omg(client, "imagine", prompt="cut short")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    assert r.text.startswith('{"statusCode":200')
    # The request itself was processed: the next id shows a task was created.
    assert omg_ok(client, "imagine", prompt="next") >= 2


def test_drop_closes_the_connection_without_a_response(client: httpx.Client) -> None:
    inject(client, {"kind": "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        omg(client, "imagine", prompt="dropped")
    assert isinstance(omg_ok(client, "imagine", prompt="reconnected"), int)
    assert requests(client)[f"{OMG}/imagine"] == 2  # the dropped request was counted too


def test_delay_and_html_gateway_page(client: httpx.Client) -> None:
    inject(client, {"kind": "delay", "seconds": 0.3}, {"kind": "html", "status": 502})
    started = time.monotonic()
    assert omg(client, "imagine", prompt="slow").status_code == 200
    assert time.monotonic() - started >= 0.3
    r = client.get("/mj/task/1/fetch")
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in r.text


def test_slow_answer_says_what_was_true_when_it_left(client: httpx.Client) -> None:
    # the page is read at once and held back: a task made meanwhile is not in it
    inject(client, {"kind": "slow_answer", "seconds": 1.0}, path_contains="query-mj-tasks")
    answers: list[httpx.Response] = []
    page = threading.Thread(
        target=lambda: answers.append(
            client.post(f"{OMG}/query-mj-tasks", params={"page": 1, "pageSize": 10}, json={"model": "midjourney"})
        )
    )
    started = time.monotonic()
    page.start()
    while client.get("/_emulator/state").json()["faults_pending"]:  # the page has been read
        time.sleep(0.01)
    # and answered, on the emulator's side: the fault is taken just before the page is read,
    # and /_emulator/state shows no sign of the read itself (a count of answers held back
    # would be something to wait on); 0.2 s is far more than the read takes
    time.sleep(0.2)
    omg_ok(client, "imagine", prompt="made meanwhile")
    page.join()
    assert time.monotonic() - started >= 1.0
    assert answers[0].json()["data"] == {"total": 0, "tasks": []}
    now = omg_ok(client, "query-mj-tasks")
    assert now["total"] == 1 and now["tasks"][0]["prompt"] == "made meanwhile"


def test_path_contains_targets_requests_in_order(client: httpx.Client) -> None:
    tid = omg_ok(client, "imagine", prompt="target practice")
    inject(client, {"kind": "http", "status": 500}, {"kind": "http", "status": 502}, path_contains="/query")
    assert isinstance(omg_ok(client, "imagine", prompt="untouched"), int)
    assert omg(client, "query", taskId=str(tid)).status_code == 500
    assert omg(client, "query", taskId=str(tid)).status_code == 502
    assert omg(client, "query", taskId=str(tid)).status_code == 200


def test_control_routes_are_never_faulted_or_counted(client: httpx.Client) -> None:
    inject(client, {"kind": "http", "status": 500})
    assert client.get("/_emulator/state").status_code == 200
    state = client.get("/_emulator/state").json()
    assert state["faults_pending"] == 1
    assert not any(p.startswith("/_emulator") for p in state["requests"])


def test_request_counts_per_path_and_reset(client: httpx.Client) -> None:
    tid = omg_ok(client, "imagine", prompt="counted")
    for _ in range(3):
        omg_ok(client, "query", taskId=str(tid))
    inject(client, {"kind": "http", "status": 503})
    state = client.get("/_emulator/state").json()
    assert state["requests"] == {f"{OMG}/imagine": 1, f"{OMG}/query": 3}
    assert state["requests_total"] == 4 and state["faults_pending"] == 1
    assert client.post("/_emulator/reset").status_code == 200
    state = client.get("/_emulator/state").json()
    assert state["requests"] == {} and state["faults_pending"] == 0 and state["clock"]["frozen"] is False
    assert state["tasks"]["ohmygpt"] >= 1  # tasks survive a reset


def test_bad_fault_requests_are_rejected(client: httpx.Client) -> None:
    assert client.post("/_emulator/faults", json={"next": [{"kind": "explode"}]}).status_code == 400
    assert client.post("/_emulator/faults", json={"next": "drop"}).status_code == 400
    assert client.get("/_emulator/state").json()["faults_pending"] == 0


def test_random_fault_rates(make_emu, key: str) -> None:
    with client_for(make_emu(error_rate=1.0), key) as c:
        statuses = {omg(c, "imagine", prompt="doomed").status_code for _ in range(6)}
        assert statuses <= {500, 502, 503} and statuses
        assert c.get("/_emulator/state").json()["tasks"]["ohmygpt"] == 0
        c.post("/_emulator/config", json={"error_rate": 0.0, "malformed_rate": 1.0})
        assert omg(c, "imagine", prompt="garbled").status_code == 200
        with pytest.raises(json.JSONDecodeError):
            omg(c, "imagine", prompt="garbled").json()
        c.post("/_emulator/config", json={"malformed_rate": 0.0, "drop_rate": 1.0})
        with pytest.raises(httpx.TransportError):
            omg(c, "imagine", prompt="gone")
        c.post("/_emulator/config", json={"drop_rate": 0.0, "latency_seconds": 0.2})
        started = time.monotonic()
        for _ in range(5):
            omg(c, "imagine", prompt="sluggish")
        assert time.monotonic() - started > 0.05
        assert c.post("/_emulator/config", json={"nonsense": 1}).status_code == 400


async def test_faults_in_process_through_asgi_transport() -> None:
    app = create_app(EmulatorConfig(grid_size=64))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emulator.demo", headers={"Authorization": "Bearer sk-demo"}
    ) as c:
        r = await c.post(f"{OMG}/imagine", json={"model": "midjourney", "prompt": "in process"})
        task = (await c.post(f"{OMG}/query", json={"model": "midjourney", "taskId": r.json()["data"]})).json()["data"]
        assert task["imageDcUrl"].startswith("http://emulator.demo/attachments/")  # built from the request
        assert (await c.get(task["imageDcUrl"])).headers["content-type"] == "image/png"
        await c.post("/_emulator/faults", json={"next": [{"kind": "drop"}, {"kind": "malformed"}]})
        with pytest.raises(httpx.TransportError):
            await c.post(f"{OMG}/query", json={"model": "midjourney", "taskId": 1})
        garbled = await c.post(f"{OMG}/query", json={"model": "midjourney", "taskId": 1})
        with pytest.raises(json.JSONDecodeError):
            garbled.json()
