"""The faults that break the answer in transit: truncate, drip, redirect, huge, gzip_bomb.

Raw httpx on a real socket, as the other emulator tests: these pin what the wire carries.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib

import httpx
import pytest
from emu_helpers import OMG, client_for, omg, omg_ok

from mj_tui.emulator import EmulatorConfig, create_app
from mj_tui.emulator.faults import _bomb


def inject(c: httpx.Client, *entries: dict, path_contains: str | None = None) -> httpx.Response:
    body: dict = {"next": list(entries)}
    if path_contains:
        body["path_contains"] = path_contains
    # as Python writes it: 1e999 goes as Infinity, which the server's parser accepts too
    return c.post("/_emulator/faults", content=json.dumps(body), headers={"Content-Type": "application/json"})


def tasks(c: httpx.Client) -> int:
    return c.get("/_emulator/state").json()["tasks"]["total"]


def test_truncate_creates_the_job_then_cuts_the_answer(client: httpx.Client) -> None:
    before = tasks(client)
    assert inject(client, {"kind": "truncate"}, path_contains="imagine").status_code == 200
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        omg(client, "imagine", prompt="cut in transit")
    assert tasks(client) == before + 1  # the job exists: only its answer was lost
    # keep: exactly that many bytes arrive, whatever the client makes of them
    assert inject(client, {"kind": "truncate", "keep": 0}).status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/mj/submit/imagine", json={"prompt": "nothing of the answer"})
    assert isinstance(omg_ok(client, "imagine", prompt="the next one is whole"), int)


def test_truncate_streamed_shows_the_cut(emu: str, key: str) -> None:
    with client_for(emu, key) as c:
        tid = omg_ok(c, "imagine", prompt="read me slowly")
        inject(c, {"kind": "truncate", "keep": 20}, path_contains="/query")
        got = bytearray()
        with (
            pytest.raises(httpx.RemoteProtocolError),
            c.stream("POST", f"{OMG}/query", json={"model": "midjourney", "taskId": str(tid)}) as r,
        ):
            declared = int(r.headers["content-length"])
            for chunk in r.iter_raw():
                got += chunk
        assert len(got) == 20 < declared and got.startswith(b'{"statusCode":200')


def test_drip_sends_a_piece_at_a_time(client: httpx.Client) -> None:
    inject(client, {"kind": "drip", "seconds": 0.05, "chunk": 16}, path_contains="imagine")
    started = time.monotonic()
    times: list[float] = []
    with client.stream("POST", f"{OMG}/imagine", json={"model": "midjourney", "prompt": "slowly"}) as r:
        body = b""
        for chunk in r.iter_raw():
            times.append(time.monotonic())
            body += chunk
    pieces = -(-len(body) // 16)
    assert json.loads(body)["statusCode"] == 200  # whole in the end
    assert time.monotonic() - started >= 0.05 * (pieces - 1)
    assert len(times) >= 2  # it came in pieces, not at once


def test_drip_stops_when_the_client_gives_up(emu: str, key: str) -> None:
    with client_for(emu, key) as c:
        inject(c, {"kind": "drip", "seconds": 5, "chunk": 1}, path_contains="imagine")
        with (
            pytest.raises(httpx.ReadTimeout),
            httpx.Client(base_url=emu, headers={"Authorization": f"Bearer {key}"}, timeout=0.3) as impatient,
        ):
            impatient.post(f"{OMG}/imagine", json={"model": "midjourney", "prompt": "x"}).read()
        assert isinstance(omg_ok(c, "imagine", prompt="the server is still fine"), int)


@pytest.mark.parametrize(
    ("fault", "status", "location"),
    [
        ({"kind": "redirect"}, 307, f"{OMG}/imagine"),  # same path, same origin: a loop
        ({"kind": "redirect", "status": 301, "location": "/moved/imagine"}, 301, "/moved/imagine"),
        ({"kind": "redirect", "location": "https://elsewhere.invalid/x?y=1"}, 307, "https://elsewhere.invalid/x?y=1"),
    ],
)
def test_redirect(client: httpx.Client, fault: dict, status: int, location: str) -> None:
    before = tasks(client)
    inject(client, fault)
    r = omg(client, "imagine", prompt="pointed elsewhere")
    assert r.status_code == status and r.headers["location"] == location
    assert tasks(client) == before  # nothing ran


def test_huge_with_and_without_a_length(client: httpx.Client) -> None:
    size = 3 * 1024 * 1024 + 7
    inject(client, {"kind": "huge", "bytes": size}, {"kind": "huge", "bytes": size, "chunked": True})
    r = omg(client, "query", taskId="1")
    assert int(r.headers["content-length"]) == size and len(r.content) == size
    assert json.loads(r.content)["padding"].startswith("xxx")
    r = omg(client, "query", taskId="1")
    assert "content-length" not in r.headers and r.headers["transfer-encoding"] == "chunked"
    assert len(r.content) == size


def test_gzip_bomb_is_small_on_the_wire(client: httpx.Client) -> None:
    size = 64 * 1024 * 1024
    inject(client, {"kind": "gzip_bomb", "bytes": size})
    with client.stream("POST", f"{OMG}/query", json={"model": "midjourney", "taskId": "1"}) as r:
        assert r.headers["content-encoding"] == "gzip"
        wire = b"".join(r.iter_raw())
    assert len(wire) < size / 500
    inflated = gzip.decompress(wire)  # a valid gzip member, CRC and length included
    assert len(inflated) == size and json.loads(inflated)["padding"][:3] == "xxx"


def test_the_default_bomb_is_a_real_one() -> None:
    wire = _bomb(1024**3)
    assert len(wire) < 2 * 1024 * 1024
    inflate = zlib.decompressobj(31)
    assert len(inflate.decompress(wire[:4096], 1 << 20)) == 1 << 20  # 4 kB in, a MiB out and more to come


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "http", "status": "abc"},
        {"kind": "http", "status": 99},
        {"kind": "http", "status": True},
        {"kind": "redirect", "status": 200},
        {"kind": "redirect", "location": 5},
        {"kind": "redirect", "location": "/x\r\nSet-Cookie: a=b"},
        {"kind": "rate_limit", "retry_after": {"s": 1}},
        {"kind": "rate_limit", "retry_after": "1\n2"},
        {"kind": "delay", "seconds": -1},
        {"kind": "delay", "seconds": "soon"},
        {"kind": "delay", "seconds": 1e999},
        {"kind": "drip", "chunk": 0},
        {"kind": "huge", "bytes": 2**40},
        {"kind": "huge", "chunked": "yes"},
        {"kind": "truncate", "keep": -1},
        {"kind": "gzip_bomb", "bytes": 1.5},
        {"kind": "drop", "seconds": 1},  # an option the kind does not take
        {"kind": "malformed", "sttaus": 500},
    ],
)
def test_a_bad_fault_is_refused_when_queued(client: httpx.Client, bad: dict) -> None:
    r = inject(client, bad)
    assert r.status_code == 400 and "error" in r.json()
    assert client.get("/_emulator/state").json()["faults_pending"] == 0
    assert omg(client, "imagine", prompt="still served").status_code == 200


def test_path_contains_must_be_text(client: httpx.Client) -> None:
    assert inject(client, {"kind": "drop"}, path_contains=None).status_code == 200
    client.post("/_emulator/reset")
    r = client.post("/_emulator/faults", json={"next": [{"kind": "drop"}], "path_contains": 5})
    assert r.status_code == 400
    assert omg(client, "imagine", prompt="served").status_code == 200


async def test_truncate_in_process_raises_what_httpx_raises() -> None:
    app = create_app(EmulatorConfig(grid_size=64))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://emulator.demo", headers={"Authorization": "Bearer k"}
    ) as c:
        await c.post("/_emulator/faults", json={"next": [{"kind": "truncate"}]})
        with pytest.raises(httpx.RemoteProtocolError):
            await c.post(f"{OMG}/imagine", json={"model": "midjourney", "prompt": "in process"})
        assert (await c.get("/_emulator/state")).json()["tasks"]["total"] == 1
