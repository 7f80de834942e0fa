"""The adversarial suite: a hostile server of our own (not the emulator) against the core.

Two small servers on loopback, `api` (the profile's base URL) and `elsewhere` (another
port, so another origin), answer from scripts: every payload class a broken or hostile
provider can send, in both dialects, to the Provider, the HttpClient's downloads and the
History. For every case:

- the core ends in a result or an MjError, never another exception;
- no error message (or repr) holds a control character, and none holds the key;
- it ends within a short bound (the caps here are short: 0.6 s per request, 256 KiB);
- Python's allocations stay bounded (tracemalloc peak), whatever the server sends;
- the key never reaches `elsewhere` (nor an image download anywhere), and a submit is
  never sent twice.

98 cases, 189 runs once the two dialects are counted (test_the_suite_covers_...).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from support.hostile import (
    CONTROL,
    OMG,
    PROXY,
    RELEASE,
    Hostile,
    answer,
    fetch_body,
    list_body,
    ok,
    raw_head,
    refusal,
    send,
    submitted,
    task,
    with_literal,
)

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.errors import (
    ImageError,
    InvalidRequest,
    MalformedResponse,
    MjError,
    NetworkError,
    RateLimited,
    Redirected,
    RequestTimeout,
    ResponseTooLarge,
    ServerError,
)
from mj_tui.core.history import History
from mj_tui.core.http import RETRY_AFTER_MAX
from mj_tui.core.models import Page, ProviderKind, SubmitResult, Task
from mj_tui.core.providers import make_provider
from mj_tui.core.providers.base import RAW_MAX, TEXT_MAX

KEY = "sk-hostile-5f2c9e1d7a"
TIMEOUT = 0.6  # the profile's request_timeout: the total for one request
BODY_CAP = 256 * 1024  # the API answer cap in these tests (8 MiB in the app)
IMAGE_CAP = 256 * 1024
MEMORY_CAP = 4 * 1024 * 1024  # peak Python allocations during one case
#: cases whose name says their size is the attack: their peak memory is measured
SIZE_ATTACKS = (
    "bomb",
    "huge",
    "endless",
    "nested",
    "deep",
    "200kb",
    "100kb",
    "megabyte",
    "thousand",
    "400-digits",
    "too-large",
    "chunked",
    "1e999",
    "drip",
    "all-bad",
)
PATHS = {
    ("ohmygpt", "fetch"): f"{OMG}/query",
    ("ohmygpt", "list"): f"{OMG}/query-mj-tasks",
    ("ohmygpt", "submit"): f"{OMG}/imagine",
    ("mjproxy", "fetch"): f"{PROXY}/task/123/fetch",
    ("mjproxy", "list"): f"{PROXY}/task/list-by-condition",
    ("mjproxy", "submit"): f"{PROXY}/submit/imagine",
}
BOTH = ("ohmygpt", "mjproxy")


# built before any case measures memory
def _gzip_bomb(size: int = 256 * 1024 * 1024) -> bytes:
    """~1 MB of gzip that unpacks to `size` bytes; made in pieces (no 256 MB string held),
    at the fastest level: the ratio is what matters, and it is built at every collection."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    piece = b"x" * (1 << 20)
    parts = [packer.compress(b'{"a": "')]
    parts += [packer.compress(piece) for _ in range(size // len(piece))]
    parts += [packer.compress(b'"}'), packer.flush()]
    return b"".join(parts)


GZIP_BOMB = _gzip_bomb()
DEEP = b"[" * 200_000
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 1000


# --------------------------------------------------------------------------- the servers


def truncated(body: bytes):
    """Headers promise the whole body; half of it comes, then the connection closes."""

    def respond(h) -> None:
        raw_head(h, 200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        h.close_connection = True

    return respond


def hang_up(h) -> None:
    h.close_connection = True  # not a byte of answer


def drip(body: bytes, every: float = 0.25):
    def respond(h) -> None:
        raw_head(h, 200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        for i in range(len(body)):
            if RELEASE.wait(every):
                return
            h.wfile.write(body[i : i + 1])
            h.wfile.flush()

    return respond


def silence_after_headers(h) -> None:
    raw_head(h, 200, {"Content-Type": "application/json", "Content-Length": "100"})
    RELEASE.wait(10)


def hang(h) -> None:
    RELEASE.wait(10)


def endless_chunked(h) -> None:
    raw_head(h, 200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    piece = b"[" + b"1," * 32_000
    with contextlib.suppress(OSError):
        while not RELEASE.is_set():
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    h.close_connection = True


def encoded(body: bytes, encoding: str, status: int = 200):
    def respond(h) -> None:
        raw_head(
            h,
            status,
            {"Content-Type": "application/json", "Content-Encoding": encoding, "Content-Length": str(len(body))},
        )
        h.wfile.write(body)
        h.wfile.flush()

    return respond


def redirect(location: Callable[[], str] | str, status: int = 307):
    def respond(h) -> None:
        where = location() if callable(location) else location
        send(h, status, b"", "text/plain", Location=where)

    return respond


def redirect_with_endless_body(location: Callable[[], str]):
    def respond(h) -> None:
        raw_head(h, 302, {"Location": location(), "Transfer-Encoding": "chunked"})
        with contextlib.suppress(OSError):
            while not RELEASE.is_set():
                h.wfile.write(b"10000\r\n" + b"z" * 0x10000 + b"\r\n")
        h.close_connection = True

    return respond


# --------------------------------------------------------------------------- the dialects' bodies
# --------------------------------------------------------------------------- the cases


@dataclass
class Ctx:
    dialect: str
    api: Hostile
    elsewhere: Hostile
    history: History | None = None


@dataclass
class Case:
    name: str
    op: str  # fetch | list | submit | download | fetch_id (a caller's bad id)
    #: (ctx) -> responders for the op's path; for downloads, a dict of path -> responders
    script: Callable[[Ctx], Any]
    #: the MjError expected (None: a result)
    expect: type[MjError] | None = None
    #: asserts on the result (or the error); a lambda may return whether it holds instead
    check: Callable[[Any, Ctx], object] | None = None
    dialects: tuple[str, ...] = BOTH
    seconds: float = 3.0
    #: requests the op's path must have received (None: any number)
    requests: int | None = None


def progress_is(n: int):
    def check(result: Task, ctx: Ctx) -> None:
        assert result.progress == n

    return check


def literal_task(marker_field: str, literal: str):
    def script(ctx: Ctx):
        return [ok(with_literal(fetch_body(ctx.dialect, task(ctx.dialect, **{marker_field: "@@"})), "@@", literal))]

    return script


def fetch_of(data_of: Callable[[str], object]):
    return lambda ctx: [ok(fetch_body(ctx.dialect, data_of(ctx.dialect)))]


def stored_small(result: Task, ctx: Ctx) -> None:
    assert len(json.dumps(result.raw)) <= RAW_MAX
    assert len(result.prompt) <= TEXT_MAX and len(result.final_prompt) <= TEXT_MAX
    assert ctx.history is not None
    (kept,) = ctx.history.upsert("ns", [result])
    assert ctx.history.get("ns", kept.id) == kept
    path = ctx.history.path
    assert not isinstance(path, str)
    wal = path.with_name(path.name + "-wal")
    assert path.stat().st_size + (wal.stat().st_size if wal.exists() else 0) < 1024 * 1024


def page_kept(good: int, skipped: int):
    def check(result: Page, ctx: Ctx) -> None:
        assert sorted(t.id for t in result.tasks) == [f"{i}" for i in range(1, good + 1)]
        assert result.skipped == skipped

    return check


def bad_ids() -> list[Case]:
    cases = []
    for name, value in [
        ("control", "12\x1b]0;pwned\x07"),
        ("slash", "../../admin"),
        ("query", "1?x=1"),
        ("hash", "1#frag"),
        ("space", "12 34"),
        ("dotdot", ".."),
        ("markup", "[/]77"),
        ("newline", "12\n34"),
        ("empty", ""),
        ("null", None),
        ("object", {"id": 1}),
        ("list", [1]),
        ("true", True),
        ("fraction", 1.5),
        ("long", "1" * 200),
    ]:
        cases.append(
            Case(f"task-id-{name}", "fetch", fetch_of(lambda d, v=value: task(d, v)), expect=MalformedResponse)
        )
    return cases


def rate_case(name: str, value: str, check: Callable[[RateLimited], None], **kw: Any) -> Case:
    """429 with this Retry-After, on every attempt."""

    def script(ctx: Ctx):
        _, body = refusal(ctx.dialect, "slow down")
        return [answer(429, body, Retry_After=value)]

    def checked(error: MjError, ctx: Ctx) -> None:
        check(error)

    return Case(name, "fetch", script, expect=RateLimited, check=checked, requests=3, **kw)


def _retry_max(e: RateLimited) -> None:
    assert e.retry_after == RETRY_AFTER_MAX and "inf" not in str(e)


def _retry_zero_or_none(e: RateLimited) -> None:
    assert e.retry_after in (0.0, None) and "Try again in" not in str(e)


def _retry_none(e: RateLimited) -> None:
    assert e.retry_after is None


def refused_with(text: str):
    def script(ctx: Ctx):
        status, body = refusal(ctx.dialect, text)
        return [answer(status, body)]

    return script


def message_has(*parts: str, lacks: tuple[str, ...] = ()):
    def check(error: MjError, ctx: Ctx) -> None:
        for part in parts:
            assert part in str(error), (part, str(error))
        for part in lacks:
            assert part not in str(error), (part, str(error))

    return check


def short_message(error: MjError, ctx: Ctx) -> None:
    assert len(str(error)) < 800


def no_request_sent(error: MjError, ctx: Ctx) -> None:
    assert ctx.api.seen == []


def redirect_elsewhere(status: int = 307):
    return lambda ctx: [redirect(lambda: ctx.elsewhere.url("/stolen?token=abc"), status)]


def https_upgrade(ctx: Ctx):
    return [redirect(lambda: ctx.api.origin.replace("http://", "https://") + "/x?q=1", 301)]


def suggests_https(error: MjError, ctx: Ctx) -> None:
    assert "should probably start with https://" in str(error)
    assert "q=1" not in str(error) and "/x" not in str(error)


def names_elsewhere(error: MjError, ctx: Ctx) -> None:
    assert ctx.elsewhere.origin in str(error)
    assert "token" not in str(error) and "stolen" not in str(error)
    assert ctx.elsewhere.seen == []


def final_png(result: Any, ctx: Ctx) -> None:
    assert result.body == PNG


def outcome_unknown(error: MjError, ctx: Ctx) -> None:
    assert error.outcome_unknown and "not sent again" in str(error)


def submit_fine(result: SubmitResult, ctx: Ctx) -> None:
    assert result.task_id == "777" and result.queued_ahead is None


def both_checks(*checks: Callable[[Any, Ctx], object]):
    def check(result: Any, ctx: Ctx) -> None:
        for one in checks:
            assert one(result, ctx) is not False

    return check


CASES: list[Case] = [
    # -- numbers that do not fit ----------------------------------------------------------
    Case("progress-1e999", "fetch", literal_task("progress", "1e999"), check=progress_is(100)),
    Case("progress-minus-infinity", "fetch", literal_task("progress", "-Infinity"), check=progress_is(0)),
    Case("progress-nan", "fetch", literal_task("progress", "NaN"), check=progress_is(0)),
    Case("progress-400-digits", "fetch", literal_task("progress", "9" * 400), check=progress_is(100)),
    Case(
        "progress-400-digit-text",
        "fetch",
        fetch_of(lambda d: task(d, progress="9" * 400 + "%")),
        check=progress_is(100),
    ),
    Case("progress-object", "fetch", fetch_of(lambda d: task(d, progress={"v": 1})), check=progress_is(0)),
    Case("submit-time-400-digits", "fetch", literal_task("submitTime", "9" * 400)),
    Case("submit-time-1e999", "fetch", literal_task("submitTime", "1e999")),
    Case("submit-time-long-text", "fetch", fetch_of(lambda d: task(d, submitTime="2024-" * 10_000))),
    Case("integer-past-the-parser-limit", "fetch", literal_task("progress", "9" * 5000), expect=MalformedResponse),
    Case("status-object", "fetch", fetch_of(lambda d: task(d, status={"x": [1]}))),
    Case("action-huge", "fetch", fetch_of(lambda d: task(d, action="A" * 100_000))),
    # -- ids that are not ids -----------------------------------------------------------
    *bad_ids(),
    Case("caller-id-with-a-slash", "fetch_id", lambda ctx: [ok({})], expect=InvalidRequest, check=no_request_sent),
    Case(
        "parent-id-path",
        "fetch",
        fetch_of(lambda d: task(d, parentId="../../x")),
        check=lambda r, c: r.parent_id is None or r.parent_id == "",
        dialects=("mjproxy",),
    ),
    # -- too much of everything ---------------------------------------------------------
    Case("prompt-200kb", "fetch", fetch_of(lambda d: task(d, prompt="p" * 200_000)), check=stored_small),
    Case("extra-field-100kb", "fetch", fetch_of(lambda d: task(d, junk="j" * 100_000)), check=stored_small),
    Case(
        "deep-field",
        "fetch",
        lambda ctx: [ok(fetch_body(ctx.dialect, task(ctx.dialect, junk=json.loads("[" * 500 + "]" * 500))))],
        check=stored_small,
    ),
    Case(
        "five-thousand-buttons",
        "fetch",
        fetch_of(
            lambda d: task(
                d,
                **{("actions" if d == "ohmygpt" else "buttons"): [{"customId": f"MJ::x::{i}"} for i in range(5_000)]},
            )
        ),
        check=lambda r, c: len(r.buttons) == 64,
    ),
    Case(
        "button-custom-id-200kb",
        "fetch",
        fetch_of(lambda d: task(d, **{("actions" if d == "ohmygpt" else "buttons"): [{"customId": "M" * 200_000}]})),
        check=lambda r, c: r.buttons == (),
    ),
    Case(
        "image-url-not-http",
        "fetch",
        fetch_of(
            lambda d: task(
                d, status="SUCCESS", **{("imageDcUrl" if d == "ohmygpt" else "imageUrl"): "javascript:alert(1)"}
            )
        ),
        check=lambda r, c: r.image_urls == () and r.image_url is None,
    ),
    # -- one bad task in a page -----------------------------------------------------------
    Case(
        "one-bad-among-good",
        "list",
        lambda ctx: [
            ok(
                list_body(
                    ctx.dialect,
                    [
                        task(ctx.dialect, "1"),
                        {"status": "SUCCESS", "prompt": "no id"},
                        task(ctx.dialect, "2"),
                        "a string",
                        task(ctx.dialect, "../x"),
                        task(ctx.dialect, "3", progress={"bad": True}, buttons="nope", submitTime=[1]),
                        task(ctx.dialect, True),
                    ],
                )
            )
        ],
        check=page_kept(3, 4),
    ),
    Case("all-bad", "list", lambda ctx: [ok(list_body(ctx.dialect, [{}, [], None, 5]))], check=page_kept(0, 4)),
    Case(
        "total-1e999",
        "list",
        lambda ctx: [ok(with_literal(list_body(ctx.dialect, [task(ctx.dialect, "1")], total="@@"), "@@", "1e999"))],
        check=page_kept(1, 0),
        dialects=("ohmygpt",),
    ),
    Case(
        "total-400-digits",
        "list",
        lambda ctx: [ok(with_literal(list_body(ctx.dialect, [task(ctx.dialect, "1")], total="@@"), "@@", "9" * 400))],
        check=both_checks(page_kept(1, 0), lambda r, c: r.pages < 10**9),
        dialects=("ohmygpt",),
    ),
    Case(
        "total-text",
        "list",
        lambda ctx: [ok(list_body(ctx.dialect, [task(ctx.dialect, "1")], total="lots"))],
        check=page_kept(1, 0),
        dialects=("ohmygpt",),
    ),
    Case(
        "tasks-not-a-list",
        "list",
        lambda ctx: [ok({"statusCode": 200, "data": {"total": 1, "tasks": "x"}})],
        expect=MalformedResponse,
        dialects=("ohmygpt",),
    ),
    # -- bodies that are not JSON, or not whole -------------------------------------------
    Case("200000-nested-brackets", "fetch", lambda ctx: [ok(DEEP)], expect=MalformedResponse, requests=3),
    Case(
        "garbage",
        "fetch",
        lambda ctx: [ok(b"\x1b[2J\x1b]52;c;aGk=\x07 not json")],
        expect=MalformedResponse,
        requests=3,
    ),
    Case(
        "html-200",
        "fetch",
        lambda ctx: [answer(200, "<html><body>gateway</body></html>", "text/html")],
        expect=ServerError,
    ),
    Case(
        "html-404", "fetch", lambda ctx: [answer(404, "<html>nope</html>", "text/html")], expect=ServerError, requests=1
    ),
    Case("empty-200", "fetch", lambda ctx: [ok(b"")], expect=MjError),
    Case(
        "truncated-then-whole",
        "fetch",
        lambda ctx: [
            truncated(json.dumps(fetch_body(ctx.dialect, task(ctx.dialect))).encode()),
            ok(fetch_body(ctx.dialect, task(ctx.dialect))),
        ],
        check=progress_is(42),
        requests=2,
    ),
    Case(
        "garbled-then-whole",
        "fetch",
        lambda ctx: [ok(b'{"statusCode": 2'), ok(fetch_body(ctx.dialect, task(ctx.dialect)))],
        check=progress_is(42),
        requests=2,
    ),
    Case("hang-up", "fetch", lambda ctx: [hang_up], expect=NetworkError, requests=3),
    Case(
        "unknown-charset",
        "fetch",
        lambda ctx: [answer(200, fetch_body(ctx.dialect, task(ctx.dialect)), "application/json; charset=x-klingon")],
        check=progress_is(42),
    ),
    Case(
        "huge-content-length-digits",
        "fetch",
        lambda ctx: [lambda h: raw_head(h, 200, {"Content-Length": "9" * 30})],
        expect=MjError,
    ),
    Case("compressed-with-br", "fetch", lambda ctx: [encoded(b"\x0b\x02\x80{}\x03", "br")], expect=MalformedResponse),
    Case(
        "corrupt-gzip",
        "fetch",
        lambda ctx: [encoded(b"\x1f\x8b\x08\x00garbage-not-deflate", "gzip")],
        expect=MalformedResponse,
    ),
    Case(
        "raw-deflate",
        "fetch",
        lambda ctx: [encoded(_raw_deflate(json.dumps(fetch_body(ctx.dialect, task(ctx.dialect))).encode()), "deflate")],
        check=progress_is(42),
    ),
    # -- bounded size ---------------------------------------------------------------------
    Case("gzip-bomb", "fetch", lambda ctx: [encoded(GZIP_BOMB, "gzip")], expect=ResponseTooLarge, requests=1),
    Case(
        "declared-too-large",
        "fetch",
        lambda ctx: [lambda h: raw_head(h, 200, {"Content-Length": str(10**9)})],
        expect=ResponseTooLarge,
    ),
    Case("endless-chunked", "fetch", lambda ctx: [endless_chunked], expect=ResponseTooLarge),
    # -- bounded time ---------------------------------------------------------------------
    Case(
        "drip",
        "fetch",
        lambda ctx: [drip(json.dumps(fetch_body(ctx.dialect, task(ctx.dialect))).encode())],
        expect=RequestTimeout,
        seconds=3 * TIMEOUT + 2,
    ),
    Case("never-answers", "fetch", lambda ctx: [hang], expect=RequestTimeout, seconds=3 * TIMEOUT + 2),
    Case(
        "silence-after-headers",
        "fetch",
        lambda ctx: [silence_after_headers],
        expect=RequestTimeout,
        seconds=3 * TIMEOUT + 2,
    ),
    # -- Retry-After ----------------------------------------------------------------------
    rate_case("retry-after-1e999", "1e999", _retry_max),
    rate_case("retry-after-negative", "-5", _retry_zero_or_none),
    rate_case("retry-after-nan", "nan", _retry_none),
    rate_case("retry-after-year-9999", "Fri, 31 Dec 9999 23:59:59 GMT", _retry_max),
    rate_case("retry-after-year-1", "Mon, 01 Jan 0001 00:00:00 GMT", _retry_zero_or_none),
    rate_case("retry-after-5000-digits", "9" * 5000, _retry_none),
    rate_case("retry-after-garbage", "soon-ish", _retry_none),
    # -- server text ------------------------------------------------------------------------
    Case(
        "refusal-with-escapes",
        "submit",
        refused_with("queue \x1b[2J\x1b]0;T\x07\x1b]52;c;aGVsbG8=\x07 full \u202eevil"),
        expect=MjError,
        check=message_has("full"),
        requests=1,
    ),
    Case(
        "refusal-echoing-the-key",
        "submit",
        refused_with(f"bad key {KEY} rejected"),
        expect=MjError,
        check=message_has("rejected"),
        requests=1,
    ),
    Case(
        "refusal-of-a-megabyte",
        "submit",
        refused_with("quota " + "w" * 1_000_000),
        expect=MjError,
        check=short_message,
        requests=1,
    ),
    Case(
        "error-500-with-escapes",
        "fetch",
        lambda ctx: [answer(500, "\x1b[31mboom\x1b[0m", "text/plain")],
        expect=ServerError,
        requests=3,
    ),
    Case(
        "unknown-code-huge",
        "submit",
        lambda ctx: [ok({"code": "9" * 3000, "description": "\x1b[2J?"})],
        expect=MjError,
        check=short_message,
        dialects=("mjproxy",),
        requests=1,
    ),
    # -- redirects ------------------------------------------------------------------------
    Case(
        "redirect-read-elsewhere", "fetch", redirect_elsewhere(), expect=Redirected, check=names_elsewhere, requests=1
    ),
    Case(
        "redirect-submit-elsewhere",
        "submit",
        redirect_elsewhere(),
        expect=Redirected,
        check=names_elsewhere,
        requests=1,
    ),
    Case(
        "redirect-308-submit-elsewhere",
        "submit",
        redirect_elsewhere(308),
        expect=Redirected,
        check=names_elsewhere,
        requests=1,
    ),
    Case("redirect-to-https", "fetch", https_upgrade, expect=Redirected, check=suggests_https, requests=1),
    Case(
        "redirect-loop",
        "fetch",
        lambda ctx: [redirect(lambda: ctx.api.url(PATHS[(ctx.dialect, "fetch")]), 302)],
        expect=Redirected,
        requests=1,
    ),
    Case(
        "redirect-to-an-invalid-url",
        "fetch",
        lambda ctx: [redirect("http://[::1:bad/x")],
        expect=Redirected,
        check=message_has("an invalid address"),
        requests=1,
    ),
    # a control character in a header breaks HTTP itself: the client calls it a dropped answer
    Case("header-with-a-control-character", "fetch", lambda ctx: [redirect("http://a/\x01\x1b[2J")], expect=MjError),
    # -- submits ------------------------------------------------------------------------
    Case(
        "submit-truncated",
        "submit",
        lambda ctx: [truncated(json.dumps(submitted(ctx.dialect, "777")).encode())],
        expect=NetworkError,
        check=outcome_unknown,
        requests=1,
    ),
    Case(
        "submit-garbled",
        "submit",
        lambda ctx: [ok(b'{"code": 1, "res')],
        expect=MalformedResponse,
        check=outcome_unknown,
        requests=1,
    ),
    Case(
        "submit-html-200",
        "submit",
        lambda ctx: [answer(200, "<html>gateway</html>", "text/html")],
        expect=ServerError,
        check=outcome_unknown,
        requests=1,
    ),
    Case(
        "submit-id-path",
        "submit",
        lambda ctx: [ok(submitted(ctx.dialect, "../../x"))],
        expect=MalformedResponse,
        check=lambda e, c: e.outcome_unknown,
        requests=1,
    ),
    Case(
        "submit-id-missing",
        "submit",
        lambda ctx: [ok(submitted(ctx.dialect, None))],
        expect=MalformedResponse,
        check=lambda e, c: e.outcome_unknown,
        requests=1,
    ),
    Case(
        "submit-drip",
        "submit",
        lambda ctx: [drip(json.dumps(submitted(ctx.dialect, "777")).encode())],
        expect=RequestTimeout,
        check=outcome_unknown,
        seconds=TIMEOUT + 1.5,
        requests=1,
    ),
    Case("submit-hang-up", "submit", lambda ctx: [hang_up], expect=NetworkError, check=outcome_unknown, requests=1),
    Case(
        "submit-500", "submit", lambda ctx: [answer(500, "{}")], expect=ServerError, check=outcome_unknown, requests=1
    ),
    Case(
        "submit-503",
        "submit",
        lambda ctx: [answer(503, "{}")],
        expect=ServerError,
        check=lambda e, c: not e.outcome_unknown and "Try again shortly" in str(e),
        requests=1,
    ),
    Case("submit-deep", "submit", lambda ctx: [ok(DEEP)], expect=MalformedResponse, check=outcome_unknown, requests=1),
    Case("submit-gzip-bomb", "submit", lambda ctx: [encoded(GZIP_BOMB, "gzip")], expect=ResponseTooLarge, requests=1),
    Case(
        "submit-queue-1e999",
        "submit",
        lambda ctx: [ok(with_literal(submitted(ctx.dialect, "777", numberOfQueues="@@"), "@@", "1e999"))],
        check=submit_fine,
        dialects=("mjproxy",),
        requests=1,
    ),
    # -- downloads (no key, redirects followed, bounded) ------------------------------------
    Case(
        "download-redirect-elsewhere",
        "download",
        lambda ctx: {"/img/start.png": [redirect(lambda: ctx.elsewhere.url("/img/final.png?sig=1"), 302)]},
        check=final_png,
    ),
    Case(
        "download-redirect-loop",
        "download",
        lambda ctx: {"/img/start.png": [redirect(lambda: ctx.api.url("/img/start.png"), 302)]},
        expect=ImageError,
    ),
    Case(
        "download-redirect-with-endless-body",
        "download",
        lambda ctx: {"/img/start.png": [redirect_with_endless_body(lambda: ctx.elsewhere.url("/img/final.png"))]},
        check=final_png,
    ),
    Case(
        "download-gzip-bomb",
        "download",
        lambda ctx: {"/img/start.png": [encoded(GZIP_BOMB, "gzip")]},
        expect=ImageError,
    ),
    Case("download-endless", "download", lambda ctx: {"/img/start.png": [endless_chunked]}, expect=ImageError),
    Case("download-drip", "download", lambda ctx: {"/img/start.png": [drip(PNG, 0.2)]}, expect=ImageError, seconds=4),
    Case(
        "download-redirect-to-javascript",
        "download",
        lambda ctx: {"/img/start.png": [redirect("javascript:alert(1)", 302)]},
        expect=ImageError,
    ),
]


def _raw_deflate(data: bytes) -> bytes:
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return deflate.compress(data) + deflate.flush()


def _param(case: Case, dialect: str):
    return pytest.param(case, dialect, id=f"{dialect}-{case.name}")


# downloads too run once per dialect: each sends its own auth headers (mj-api-secret on the proxy)
PARAMS = [_param(case, dialect) for case in CASES for dialect in case.dialects]


# --------------------------------------------------------------------------- running one case


@pytest.fixture
def servers():
    RELEASE.clear()
    api, elsewhere = Hostile(), Hostile()
    yield api, elsewhere
    RELEASE.set()
    api.close()
    elsewhere.close()


async def run(case: Case, ctx: Ctx) -> Any:
    kind = ProviderKind.OHMYGPT if ctx.dialect == "ohmygpt" else ProviderKind.MJPROXY
    profile = replace(default_profile("hostile", kind), base_url=ctx.api.origin, request_timeout=TIMEOUT)
    provider = make_provider(profile, Secret(KEY))
    provider.http.retry.base_delay = 0.01
    provider.http.retry.max_delay = 0.05
    provider.http.max_body = BODY_CAP
    try:
        if case.op == "download":
            return await provider.http.download(ctx.api.url("/img/start.png?sig=2"), max_bytes=IMAGE_CAP, timeout=2.0)
        if case.op == "fetch":
            return await provider.fetch("123")
        if case.op == "fetch_id":
            return await provider.fetch("a/b")
        if case.op == "list":
            if kind == ProviderKind.OHMYGPT:
                return await provider.list_page(1, 10)
            tasks = await provider.fetch_many(["1", "2", "3"])
            return Page(tasks, 1, len(tasks), len(tasks), provider.skipped_tasks)
        if case.op == "submit":
            return await provider.imagine("a hostile fox")
        raise AssertionError(case.op)
    finally:
        await provider.aclose()


def assert_clean(error: MjError) -> None:
    for text in (str(error), repr(error), error.title):
        assert not CONTROL.search(text), text
        assert KEY not in text
    assert KEY not in (error.raw or "")


def assert_no_key_elsewhere(ctx: Ctx) -> None:
    for seen in ctx.elsewhere.seen:
        assert "authorization" not in seen.headers and "mj-api-secret" not in seen.headers
        assert KEY not in json.dumps(seen.headers) and KEY.encode() not in seen.body and KEY not in seen.path
    for seen in ctx.api.seen:
        if seen.path.startswith("/img/"):  # a download, even from the API's own origin, carries no key
            assert KEY not in json.dumps(seen.headers)


@pytest.mark.parametrize(("case", "dialect"), PARAMS)
async def test_hostile(case: Case, dialect: str, servers, tmp_path) -> None:
    api, elsewhere = servers
    ctx = Ctx(dialect, api, elsewhere, History(tmp_path / "history.sqlite3"))
    script = case.script(ctx)
    if case.op == "download":
        for path, responders in script.items():
            api.route(path, *responders)
        elsewhere.route("/img/final.png", answer(200, PNG, "image/png"))
    else:
        suffix = PATHS[(dialect, "fetch" if case.op == "fetch_id" else case.op)]
        api.route(suffix, *script)

    # memory is measured where a payload's size is the attack (tracing every case costs a
    # quarter of the suite's time; the others' bodies are small by construction)
    measure = any(word in case.name for word in SIZE_ATTACKS)
    if measure:
        tracemalloc.start()
    started = time.monotonic()
    try:
        result: Any = await asyncio.wait_for(run(case, ctx), timeout=case.seconds + 5)
        error: MjError | None = None
    except MjError as exc:  # anything else fails the test as it is
        result, error = None, exc
    finally:
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] if measure else 0
        if measure:
            tracemalloc.stop()
        RELEASE.set()

    assert elapsed < case.seconds, f"took {elapsed:.2f}s"
    assert peak < MEMORY_CAP, f"peak {peak / 2**20:.1f} MiB"
    assert_no_key_elsewhere(ctx)
    if case.expect is None:
        assert error is None, f"{type(error).__name__}: {error}"
        # a check asserts, or (a lambda) returns whether it holds
        if case.check:
            assert case.check(result, ctx) is not False, case.name
    else:
        assert isinstance(error, case.expect), f"expected {case.expect.__name__}, got {type(error).__name__}: {error}"
        assert_clean(error)
        if case.check:
            assert case.check(error, ctx) is not False, case.name
    if case.requests is not None and case.op != "download":
        assert api.requests_to(PATHS[(dialect, case.op)]) == case.requests
    ctx.history.close()


def test_the_suite_covers_every_payload_class():
    names = {case.name for case in CASES}
    for needed in (
        "progress-1e999",
        "progress-400-digits",
        "retry-after-1e999",
        "redirect-loop",
        "download-redirect-loop",
        "200000-nested-brackets",
        "task-id-control",
        "task-id-slash",
        "one-bad-among-good",
        "gzip-bomb",
        "drip",
        "redirect-submit-elsewhere",
        "download-redirect-elsewhere",
    ):
        assert needed in names
    assert (len(CASES), len(PARAMS)) == (98, 189)  # say so in the docstring when this changes
