"""Answers broken in transit, from the emulator's faults: reads ask again, submits never,
and no answer is unbounded in size or time. Real HTTP over loopback, both dialects."""

from __future__ import annotations

import time

import pytest

from mj_tui.core.errors import (
    MalformedResponse,
    MjError,
    OutcomeUnknown,
    Redirected,
    RequestTimeout,
    ResponseTooLarge,
)
from mj_tui.core.models import ProviderKind, Status

SUBMIT_PATH = {ProviderKind.OHMYGPT: "/imagine", ProviderKind.MJPROXY: "/submit/imagine"}
READ_PATH = {ProviderKind.OHMYGPT: "/query", ProviderKind.MJPROXY: "/fetch"}


def inject(control, *faults, path_contains):
    response = control.post("/_emulator/faults", json={"next": list(faults), "path_contains": path_contains})
    assert response.status_code == 200, response.text


def sent(control, fragment: str) -> int:
    counts = control.get("/_emulator/state").json()["requests"]
    return sum(n for path, n in counts.items() if fragment in path)


def created(control) -> int:
    return control.get("/_emulator/state").json()["tasks"]["total"]


async def test_reads_ask_again_after_a_truncated_answer(service, control, kind):
    done = await service.wait((await service.imagine("a fox read twice")).id, timeout=30)
    inject(control, {"kind": "truncate"}, {"kind": "malformed"}, path_contains=READ_PATH[kind])
    before = sent(control, READ_PATH[kind])
    again = await service.refresh(done.id)
    assert again.status == Status.SUCCESS and again.id == done.id
    assert sent(control, READ_PATH[kind]) - before == 3  # cut, garbled, then whole


async def test_reads_give_up_on_answers_that_never_parse(service, control, kind):
    inject(control, *[{"kind": "malformed"}] * 3, path_contains=READ_PATH[kind])
    with pytest.raises(MalformedResponse, match="not valid JSON") as info:
        await service.refresh("1234")
    assert not info.value.outcome_unknown  # a read: nothing was at stake


@pytest.mark.parametrize("fault", ["truncate", "malformed"])
async def test_a_submit_with_a_lost_answer_is_sent_once_and_says_so(service, control, kind, fault):
    inject(control, {"kind": fault}, path_contains=SUBMIT_PATH[kind])
    before, made = sent(control, SUBMIT_PATH[kind]), created(control)
    if kind == ProviderKind.OHMYGPT:  # the account's list shows it: found, not lost
        task = await service.imagine("a fox whose receipt was lost")
        assert task.prompt == "a fox whose receipt was lost" and task.status != Status.UNCONFIRMED
    else:  # nothing lists it by prompt: kept as unconfirmed for the person
        with pytest.raises(OutcomeUnknown) as info:
            await service.imagine("a fox whose receipt was lost")
        assert info.value.outcome_unknown and "not sent again" in str(info.value)
        assert info.value.task.status == Status.UNCONFIRMED
    assert sent(control, SUBMIT_PATH[kind]) - before == 1
    assert created(control) == made + 1  # the job does exist: hence the care


async def test_a_dripping_answer_ends_at_the_total_timeout(make_service, control, kind):
    service = make_service(kind, request_timeout=1.0)
    # each byte arrives well within the per-read timeout; only the total stops it
    inject(control, {"kind": "drip", "seconds": 0.3, "chunk": 1}, path_contains=SUBMIT_PATH[kind])
    started = time.monotonic()
    if kind == ProviderKind.OHMYGPT:  # the server made it while the answer dripped: found
        task = await service.imagine("a fox, slowly")
        assert task.status != Status.UNCONFIRMED
    else:
        with pytest.raises(OutcomeUnknown, match="did not finish answering within 1s") as info:
            await service.imagine("a fox, slowly")
        assert info.value.outcome_unknown
    assert time.monotonic() - started < 3

    service.provider.http.retry.attempts = 1
    inject(control, {"kind": "drip", "seconds": 0.3, "chunk": 1}, path_contains=READ_PATH[kind])
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        await service.refresh("1")
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("read", [True, False], ids=["read", "submit"])
async def test_an_api_redirect_is_never_followed(service, control, kind, read):
    path = READ_PATH[kind] if read else SUBMIT_PATH[kind]
    inject(control, {"kind": "redirect", "location": "https://elsewhere.invalid/steal?token=abc"}, path_contains=path)
    before = sent(control, path)
    with pytest.raises(Redirected) as info:
        await (service.refresh("1") if read else service.imagine("a fox, redirected"))
    message = str(info.value)
    assert "https://elsewhere.invalid" in message and "steal" not in message and "token" not in message
    assert "base URL" in message and info.value.status == 307
    assert sent(control, path) - before == 1  # not retried either: asking again changes nothing


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "huge"},  # 16 MiB with a Content-Length: refused before reading
        {"kind": "huge", "bytes": 64 * 1024 * 1024, "chunked": True},  # read up to the cap
        {"kind": "gzip_bomb"},  # 1 GiB once inflated, 1 MB on the wire
    ],
    ids=["huge", "huge-chunked", "gzip-bomb"],
)
async def test_an_oversized_answer_stops_at_the_cap(service, control, kind, fault):
    inject(control, fault, path_contains=READ_PATH[kind])
    started = time.monotonic()
    with pytest.raises(ResponseTooLarge, match="larger than the 8 MB") as info:
        await service.refresh("1")
    assert time.monotonic() - started < 10
    assert isinstance(info.value, MjError) and "misbehaving" in str(info.value)
