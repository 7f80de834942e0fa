"""Callbacks, end to end over loopback: the emulator POSTs to a real WebhookListener on
another port, which checks each request and hands the task, parsed by the dialect's own
parser, to its callback. Also what a submit sends: `webhook`/`notifyHook` only when asked."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace

import httpx
import pytest
from support.hostile import OMG, RELEASE, Hostile, ok, submitted
from support.keys import fresh_key

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.errors import InvalidRequest, MjError
from mj_tui.core.models import ProviderKind, Status, Task
from mj_tui.core.providers import make_provider
from mj_tui.core.webhooks import ListenError, WebhookListener, parse_listen


def provider_for(base_url: str, kind: ProviderKind, key: str | None = None):
    profile = replace(default_profile("test", kind), base_url=base_url, request_timeout=5.0)
    return make_provider(profile, Secret(key or fresh_key()))


class Inbox:
    """What a listener handed on, with a way to wait for a task in a given state."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Task]] = []
        self._changed = asyncio.Event()

    def __call__(self, job: str, task: Task) -> None:
        self.items.append((job, task))
        self._changed.set()

    async def wait_for(self, status: Status, timeout: float = 15.0) -> Task:
        async with asyncio.timeout(timeout):
            while True:
                for _job, task in self.items:
                    if task.status == status:
                        return task
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def listener():
    inbox = Inbox()
    parse = provider_for("http://127.0.0.1:9", ProviderKind.MJPROXY).parse_callback
    async with WebhookListener("127.0.0.1", 0, parse=parse, on_task=inbox) as server:
        server.inbox = inbox
        yield server


# -- end to end, both dialects ------------------------------------------------------


async def test_a_submitted_task_arrives_parsed_until_it_succeeds(emulator, control, kind):
    control.post("/_emulator/config", json={"job_seconds": 0.6})
    provider = provider_for(emulator, kind)
    inbox = Inbox()
    try:
        async with WebhookListener("127.0.0.1", 0, parse=provider.parse_callback, on_task=inbox) as listener:
            result = await provider.imagine("a fox under the aurora", webhook=listener.url_for("7"))
            done = await inbox.wait_for(Status.SUCCESS)
            assert listener.received == len(inbox.items)
    finally:
        await provider.aclose()
    assert {job for job, _ in inbox.items} == {"7"}
    assert {task.id for _, task in inbox.items} == {result.task_id}
    assert done.provider == kind and done.image_url and done.progress == 100
    # a state before the end came too, and the last one is the end
    assert len(inbox.items) >= 2 and inbox.items[-1][1].status == Status.SUCCESS
    assert inbox.items[0][1].status != Status.SUCCESS


async def test_an_action_gets_its_own_hook(emulator, kind):
    provider = provider_for(emulator, kind)
    inbox = Inbox()
    try:
        async with WebhookListener("127.0.0.1", 0, parse=provider.parse_callback, on_task=inbox) as listener:
            first = await provider.imagine("a fox", webhook=listener.url_for("grid"))
            grid = await inbox.wait_for(Status.SUCCESS)
            assert grid.id == first.task_id
            u2 = next(b for b in grid.buttons if b.label == "U2")
            inbox.items.clear()
            second = await provider.action(grid, u2.custom_id, webhook=listener.url_for("u2"))
            single = await inbox.wait_for(Status.SUCCESS)
    finally:
        await provider.aclose()
    assert single.id == second.task_id and {job for job, _ in inbox.items} == {"u2"}


# -- the listener's own checks -------------------------------------------------------


async def test_a_wrong_or_missing_token_is_refused(listener):
    url = listener.url_for("1")
    good = {"id": "17", "status": "SUCCESS"}
    async with httpx.AsyncClient() as client:
        missing = await client.post(url.split("?")[0], json=good)
        wrong = await client.post(url.split("?")[0] + "?token=guess", json=good)
        other = await client.post(url + "x", json=good)
        right = await client.post(url, json=good)
    assert (missing.status_code, wrong.status_code, other.status_code) == (403, 403, 403)
    assert right.status_code == 200
    assert [(job, task.id) for job, task in listener.inbox.items] == [("1", "17")]
    assert listener.received == 1


async def test_huge_junk_and_non_task_bodies_are_refused(listener, capfd):
    url = listener.url_for("2")
    async with httpx.AsyncClient() as client:
        huge = await client.post(url, content=b"[" + b" " * (2 * 1024 * 1024) + b"]")
        junk = await client.post(url, content=b"\xff not json {")
        deep = await client.post(url, content=b"[" * 100_000)
        not_task = await client.post(url, json={"status": "SUCCESS"})  # no id
        a_list = await client.post(url, json=[1, 2, 3])
    assert huge.status_code == 413
    assert (junk.status_code, deep.status_code, not_task.status_code, a_list.status_code) == (400, 400, 400, 400)
    assert listener.inbox.items == [] and listener.received == 0
    assert capfd.readouterr() == ("", "")  # nothing on the terminal


async def test_a_failing_callback_is_logged_not_a_500_and_prints_nothing(capfd, caplog):
    def broken(job: str, task: Task) -> None:
        raise RuntimeError("a bug in the caller")

    parse = provider_for("http://127.0.0.1:9", ProviderKind.OHMYGPT).parse_callback
    listener = WebhookListener("127.0.0.1", 0, parse=parse, on_task=broken)
    async with listener, httpx.AsyncClient() as client:
        bare = await client.post(listener.url_for("3"), json={"taskId": 5, "status": "IN_PROGRESS"})
        wrapped = await client.post(listener.url_for("3"), json={"statusCode": 200, "data": {"taskId": 6}})
    assert (bare.status_code, wrapped.status_code) == (200, 200)
    assert listener.received == 2
    assert "a bug in the caller" in caplog.text
    assert capfd.readouterr() == ("", "")


async def test_async_callbacks_are_awaited():
    seen: list[str] = []

    async def on_task(job: str, task: Task) -> None:
        await asyncio.sleep(0)
        seen.append(task.id)

    parse = provider_for("http://127.0.0.1:9", ProviderKind.MJPROXY).parse_callback
    other = WebhookListener("127.0.0.1", 0, parse=parse, on_task=on_task)
    async with other, httpx.AsyncClient() as client:
        r = await client.post(other.url_for("4"), json={"id": "99", "status": "SUBMITTED"})
    assert r.status_code == 200 and seen == ["99"]


async def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        listener = WebhookListener("127.0.0.1", port, parse=lambda body: None, on_task=lambda job, task: None)
        with pytest.raises(ListenError) as caught:
            await listener.start()
    assert isinstance(caught.value, MjError)
    assert str(caught.value) == f"Cannot listen on 127.0.0.1:{port}: address in use."


async def test_urls_carry_a_per_run_token_and_the_public_base():
    make = lambda **kw: WebhookListener("0.0.0.0", 8765, parse=lambda b: None, on_task=lambda j, t: None, **kw)  # noqa: E731
    one, two = make(), make(public_url="https://box.example.net:9000/")
    assert one.url_for("7").startswith("http://0.0.0.0:8765/mj-tui/hook/7?token=")
    assert two.url_for("7").startswith("https://box.example.net:9000/mj-tui/hook/7?token=")
    assert one.url_for("7").split("token=")[1] != two.url_for("7").split("token=")[1]
    assert "token" not in repr(one) and one.url_for("7").split("token=")[1] not in repr(one)
    with pytest.raises(ValueError):
        one.url_for("../x")
    with pytest.raises(ListenError):
        make(public_url="ftp://box")


def test_listen_addresses_are_read():
    assert parse_listen("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_listen("[::1]:80") == ("::1", 80)
    for bad in ("8765", "host:", ":80", "host:99999", "host:x"):
        with pytest.raises(ListenError):
            parse_listen(bad)


# -- what a submit sends --------------------------------------------------------------


@pytest.fixture
def api():
    RELEASE.clear()
    server = Hostile()
    yield server
    RELEASE.set()
    server.close()


HOOK = "https://hooks.example.net/mj?token=abc"
IMAGE = "data:image/png;base64,iVBORw0KGgo="


async def _submits(provider, kind: ProviderKind, hook: str | None) -> None:
    mode_parent = {"taskId": 5, "taskType": "FAST"} if kind == ProviderKind.OHMYGPT else {"id": "5", "mode": "FAST"}
    parent = provider.parse_task({**mode_parent, "status": "SUCCESS"})
    await provider.imagine("a fox", webhook=hook)
    await provider.action(parent, "MJ::JOB::upsample::1::abc", webhook=hook)
    await provider.blend([IMAGE, IMAGE], webhook=hook)
    await provider.describe(IMAGE, webhook=hook)
    if kind == ProviderKind.MJPROXY:
        await provider.shorten("a long prompt", webhook=hook)
        await provider.modal("5", prompt="a fox --zoom 1.5", webhook=hook)


@pytest.mark.parametrize("kind", [ProviderKind.OHMYGPT, ProviderKind.MJPROXY], ids=["ohmygpt", "mjproxy"])
async def test_the_hook_field_is_sent_only_when_given(api, kind):
    field = "webhook" if kind == ProviderKind.OHMYGPT else "notifyHook"
    dialect = "ohmygpt" if kind == ProviderKind.OHMYGPT else "mjproxy"
    for verb in ("imagine", "action", "blend", "describe", "shorten", "modal"):
        api.route(f"/{verb}", ok(submitted(dialect, 123 if dialect == "ohmygpt" else "123")))
    provider = provider_for(api.origin, kind)
    try:
        await _submits(provider, kind, None)
        plain = [json.loads(s.body) for s in api.seen]
        api.seen.clear()
        await _submits(provider, kind, HOOK)
        hooked = [json.loads(s.body) for s in api.seen]
    finally:
        await provider.aclose()
    assert len(plain) == len(hooked) >= 4
    assert all(field not in body and "webhook" not in body and "notifyHook" not in body for body in plain)
    # the same bodies, plus the one field
    assert [{k: v for k, v in body.items() if k != field} for body in hooked] == plain
    assert all(body[field] == HOOK for body in hooked)
    if kind == ProviderKind.OHMYGPT:
        assert api.seen[0].path == f"{OMG}/imagine"
        assert plain[0] == {"model": "midjourney", "prompt": "a fox", "type": "FAST"}
    else:
        assert plain[0] == {"prompt": "a fox"}


@pytest.mark.parametrize("kind", [ProviderKind.OHMYGPT, ProviderKind.MJPROXY], ids=["ohmygpt", "mjproxy"])
@pytest.mark.parametrize(
    "hook", ["ftp://example.net/x", "javascript:alert(1)", "https://", "http://a b/", "https://x/" + "a" * 2000]
)
async def test_a_bad_hook_is_refused_before_anything_is_sent(api, kind, hook):
    provider = provider_for(api.origin, kind)
    try:
        with pytest.raises(InvalidRequest):
            await provider.imagine("a fox", webhook=hook)
        with pytest.raises(InvalidRequest):
            await provider.describe(IMAGE, webhook=hook)
    finally:
        await provider.aclose()
    assert api.seen == []
