"""Cancel through the real providers: midjourney-proxy's cancel against the emulator (and a
scripted server for what the emulator does not say), OhMyGPT's lack of one."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from support.hostile import RELEASE, Hostile, answer
from support.keys import fresh_key

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.errors import InvalidRequest, PermissionDenied, Unsupported
from mj_tui.core.models import ProviderKind, Status
from mj_tui.core.providers import make_provider

KEY = "sk-cancel-secret-key"


def provider_for(base_url: str, kind: ProviderKind, key: str | None = None):
    profile = replace(default_profile("test", kind), base_url=base_url, request_timeout=5.0)
    provider = make_provider(profile, Secret(key or fresh_key()))
    provider.http.retry.base_delay = 0.01
    provider.http.retry.max_delay = 0.05
    return provider


@pytest.fixture
async def proxy(emulator):
    provider = provider_for(emulator, ProviderKind.MJPROXY)
    yield provider
    await provider.aclose()


@pytest.fixture
def api():
    RELEASE.clear()
    server = Hostile()
    yield server
    RELEASE.set()
    server.close()


def test_which_dialects_cancel():
    assert make_provider(default_profile("a", ProviderKind.MJPROXY), None).supports_cancel is True
    assert make_provider(default_profile("b", ProviderKind.OHMYGPT), None).supports_cancel is False


async def test_a_running_task_ends_as_a_failure(proxy, control):
    control.post("/_emulator/config", json={"job_seconds": 60})
    submitted = await proxy.imagine("a slow fox")
    assert (await proxy.fetch(submitted.task_id)).status != Status.FAILURE
    await proxy.cancel(submitted.task_id)
    task = await proxy.fetch(submitted.task_id)
    assert task.status == Status.FAILURE and task.fail_reason == "取消任务"
    assert task.finish_time is not None
    await proxy.cancel(submitted.task_id)  # again: nothing to do, no error


async def test_a_finished_task_is_left_alone(proxy, control):
    submitted = await proxy.imagine("a quick fox")
    deadline = time.monotonic() + 10
    while (await proxy.fetch(submitted.task_id)).status != Status.SUCCESS:
        assert time.monotonic() < deadline
    await proxy.cancel(submitted.task_id)
    assert (await proxy.fetch(submitted.task_id)).status == Status.SUCCESS


async def test_an_ordinary_user_is_told_only_admins_may_cancel(proxy, control):
    control.post("/_emulator/config", json={"job_seconds": 60, "proxy_admin": False})
    submitted = await proxy.imagine("a stubborn fox")
    with pytest.raises(PermissionDenied) as caught:
        await proxy.cancel(submitted.task_id)
    message = str(caught.value)
    assert "administrators" in message and "“演示模式，禁止操作”" in message
    assert (await proxy.fetch(submitted.task_id)).status != Status.FAILURE


async def test_ohmygpt_has_no_cancel(emulator, control):
    provider = provider_for(emulator, ProviderKind.OHMYGPT)
    try:
        before = control.get("/_emulator/state").json()["requests_total"]
        with pytest.raises(Unsupported) as caught:
            await provider.cancel("42")
    finally:
        await provider.aclose()
    assert "OhMyGPT has no way to cancel" in str(caught.value) and "billed" in str(caught.value)
    assert control.get("/_emulator/state").json()["requests_total"] == before  # nothing sent


@pytest.mark.parametrize("status", [404, 405])
async def test_a_server_without_cancel_says_so(api, status):
    api.route("/cancel", answer(status, "Not Found", "text/plain"))
    provider = provider_for(api.origin, ProviderKind.MJPROXY)
    try:
        with pytest.raises(Unsupported, match=r"(?i)this server has no cancel"):
            await provider.cancel("1234")
    finally:
        await provider.aclose()
    assert api.seen[0].method == "POST" and api.seen[0].path == "/mj-fast/mj/task/1234/cancel"
    assert api.seen[0].body == b""


async def test_server_text_in_a_refusal_is_cleaned_and_never_holds_the_key(api):
    api.route("/cancel", answer(400, f"\x1b[2Jno \x07cancel for {KEY}", "text/plain; charset=utf-8"))
    provider = provider_for(api.origin, ProviderKind.MJPROXY, KEY)
    try:
        with pytest.raises(PermissionDenied) as caught:
            await provider.cancel("1234")
    finally:
        await provider.aclose()
    text = str(caught.value) + repr(caught.value) + (caught.value.raw or "")
    assert KEY not in text and "\x1b" not in str(caught.value) and "no " in str(caught.value)


async def test_a_bad_id_is_refused_before_anything_is_sent(api):
    provider = provider_for(api.origin, ProviderKind.MJPROXY)
    try:
        with pytest.raises(InvalidRequest):
            await provider.cancel("../admin")
    finally:
        await provider.aclose()
    assert api.seen == []


def test_the_cli_cancels_a_running_task_on_midjourney_proxy_and_says_why_not_on_ohmygpt(emulator, control):
    from test_cli import run

    control.post("/_emulator/config", json={"job_seconds": 30})
    base = ["--provider", "mjproxy", "--base-url", emulator]
    sent = run(*base, "imagine", "a fox to cancel", "--json", key="sk-cli-cancel")
    assert sent.returncode == 0, sent.stderr
    task_id = json.loads(sent.stdout)["id"]
    gone = run(*base, "cancel", task_id, "--json", key="sk-cli-cancel")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout)["status"] == "FAILURE"
    base = ["--provider", "ohmygpt", "--base-url", emulator]
    sent = run(*base, "imagine", "a fox that runs on", "--json", key="sk-cli-cancel-omg")
    refused = run(*base, "cancel", json.loads(sent.stdout)["id"], key="sk-cli-cancel-omg")
    assert refused.returncode == 1 and "OhMyGPT has no way to cancel" in refused.stderr
