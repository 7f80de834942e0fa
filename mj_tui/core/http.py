"""The one place that talks HTTP: timeouts, retries for reads, none for submits.

Auth headers are added per request (never as client defaults) so that the
same client can download images from a CDN without sending the key there.

Every answer is bounded, whatever the server does: its decoded size (a gzip bomb stops
at the cap), the total time of each request (not only the time between two bytes), and
the nesting of its JSON. API requests never follow redirects: the key travels in the
headers (``mj-api-secret`` is not a header httpx knows to drop on another host) and a
submit's body with it. Image downloads follow them; they carry no key.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import math
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from .credentials import Secret
from .errors import (
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
from .text import exception_detail, fmt_size
from .urls import display_origin, display_url, without_query

USER_AGENT = "mj-tui/0.1 (+terminal client)"
DOWNLOAD_CHUNK = 64 * 1024
# a link that answers one of these has expired (Discord) or was removed
EXPIRED_STATUSES = frozenset({401, 403, 404, 410})
#: the most an API answer may hold once decoded; a page of 20 tasks is tens of kB
MAX_API_BODY = 8 * 1024 * 1024
#: the longest wait a Retry-After may ask for (a day); anything beyond is a broken header
RETRY_AFTER_MAX = 24 * 3600.0
# only what `_Decoder` can decode with a bound on its output
ACCEPT_ENCODING = "gzip, deflate"
MAX_DOWNLOAD_REDIRECTS = 10


@dataclass(frozen=True)
class Downloaded:
    """A downloaded file: its bytes and the type the server gave."""

    body: bytes
    content_type: str


@dataclass(frozen=True)
class Reply:
    """An API answer, read in full (within the caps) and parsed."""

    status: int
    #: the body as text (for messages and logs: scrub it before showing any of it)
    text: str
    #: the parsed JSON, or None for an empty body
    payload: Any


AMBIGUOUS_SUBMIT = (
    " The request may or may not have reached the server, so it was not sent again: "
    "check the task list before submitting it once more."
)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asks us to wait: a number or an HTTP date, clamped to
    [0, RETRY_AFTER_MAX]; None when the header is absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    if not value or len(value) > 64:
        return None
    seconds: float
    try:
        seconds = float(value)
    except ValueError:
        try:
            import datetime as _dt

            when = parsedate_to_datetime(value)
            seconds = (when - _dt.datetime.now(when.tzinfo)).total_seconds()
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), RETRY_AFTER_MAX)


def _wait_text(seconds: float) -> str:
    if seconds < 120:
        return f"{math.ceil(seconds)}s"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} min"
    return f"{seconds / 3600:.0f} h"


def parse_json(text: str) -> Any:
    """The JSON in an answer's body; None for an empty one.

    Raises ValueError for anything that is not JSON, including nesting deep enough to
    exhaust the parser's recursion (200,000 ``[``) and integers too long to convert."""
    if not text.strip():
        return None
    try:
        return jsonlib.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


@dataclass
class RetryPolicy:
    attempts: int = 3  # total tries for a read
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, hint: float | None = None) -> float:
        if hint is not None:
            return min(hint, self.max_delay)
        # full jitter keeps many clients from retrying in lockstep
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


class _BadBody(Exception):
    """The body's bytes cannot be decoded (corrupt compression, an unknown encoding)."""


class _Decoder:
    """Content-Encoding undone with a bound on the output of every step.

    httpx's own decoders inflate a whole network chunk at once: 64 kB of a gzip bomb
    becomes ~64 MB before any cap can look at it. Here no step yields more than the
    room left under the cap, plus one byte to tell that the cap was passed.
    """

    def __init__(self, encoding: str) -> None:
        names = [e.strip() for e in encoding.lower().split(",") if e.strip() and e.strip() != "identity"]
        if len(names) > 1 or (names and names[0] not in ("gzip", "x-gzip", "deflate")):
            raise _BadBody(f"it is compressed with {encoding!r}, which mj-tui did not ask for")
        self._name = names[0] if names else ""
        self._inflate: Any = None
        if self._name in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """Decoded bytes of `data`: at most room + 1 (more than room means over the cap)."""
        if not self._name:
            return data
        if self._inflate is None:  # deflate: zlib-wrapped as the standard says, or raw as some send
            try:
                self._inflate = zlib.decompressobj(zlib.MAX_WBITS)
                return self._inflate.decompress(data, room + 1)  # type: ignore[no-any-return]
            except zlib.error:
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            return self._inflate.decompress(data, room + 1)  # type: ignore[no-any-return]
        except zlib.error as exc:
            raise _BadBody(f"its compressed data is corrupt ({exc})") from None

    def flush(self) -> bytes:
        if self._inflate is None:
            return b""
        try:
            return self._inflate.flush()  # type: ignore[no-any-return]
        except zlib.error as exc:
            raise _BadBody(f"its compressed data is corrupt ({exc})") from None


async def read_bounded(response: httpx.Response, limit: int, too_large: Callable[[int | None], MjError]) -> bytes:
    """The decoded body of a streamed response, or `too_large(declared size or None)` past `limit`."""
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and len(declared) < 19 and int(declared) > limit:
        raise too_large(int(declared))  # refused before reading a byte of it
    if response.is_stream_consumed:  # an event hook read it already (the benchmarks count bytes so)
        if len(response.content) > limit:
            raise too_large(None)
        return response.content
    decoder = _Decoder(response.headers.get("content-encoding", ""))
    body = bytearray()
    async for chunk in response.aiter_raw(DOWNLOAD_CHUNK):
        body += decoder.feed(chunk, limit - len(body))
        if len(body) > limit:
            raise too_large(None)
    body += decoder.flush()
    if len(body) > limit:
        raise too_large(None)
    return bytes(body)


def _text_of(response: httpx.Response, body: bytes) -> str:
    try:
        return body.decode(response.charset_encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


class HttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        secret: Secret | None,
        auth_headers: Callable[[str], dict[str, str]],
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        trust_env: bool = True,
        max_body: int = MAX_API_BODY,
    ):
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._auth_headers = auth_headers
        self.retry = retry or RetryPolicy()
        #: the whole of one request, answer included: a server dripping one byte every few
        #: seconds would pass every per-read timeout
        self.timeout = timeout
        #: the most an API answer may hold, decoded
        self.max_body = max_body
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING},
            # an API request never follows a redirect (the key would go along); downloads ask for it
            follow_redirects=False,
            trust_env=trust_env,
        )
        #: requests sent (attempts, not calls): benchmarks and tests read it
        self.request_count = 0

    def __repr__(self) -> str:
        return f"HttpClient({self.base_url!r})"

    def scrub(self, text: str) -> str:
        """Remove the key from server text before it can reach a message or log."""
        if self._secret and self._secret.reveal() and text:
            return text.replace(self._secret.reveal(), "****")
        return text

    def _headers(self) -> dict[str, str]:
        if not self._secret:
            return {}
        return self._auth_headers(self._secret.reveal())

    async def send_json(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Reply:
        """Send one API request and parse its JSON answer.

        Reads (`idempotent`) retry transient faults with backoff: a dropped connection, a
        timeout, 429, 5xx, and an answer whose body does not parse (cut short by a proxy,
        garbled). Submits are sent once, whatever happens; when their outcome is unknown
        the error says so (``outcome_unknown``).

        Returns the reply for every status below 500 except 429, which the dialect then
        interprets; raises an :class:`MjError` otherwise.
        """
        attempts = max(1, self.retry.attempts) if idempotent else 1
        last: MjError | None = None
        for attempt in range(attempts):
            if attempt:
                hint = last.retry_after if isinstance(last, RateLimited) else None
                await asyncio.sleep(self.retry.delay(attempt - 1, hint))
            try:
                return await self._attempt(method, url, idempotent=idempotent, json=json, params=params)
            except MjError as exc:
                if not (idempotent and exc.retryable):
                    raise
                last = exc
        assert last is not None
        raise last

    async def _attempt(
        self, method: str, url: str, *, idempotent: bool, json: Any, params: dict[str, Any] | None
    ) -> Reply:
        unsure = "" if idempotent else AMBIGUOUS_SUBMIT
        slow = " Check the network, or try again later." if idempotent else AMBIGUOUS_SUBMIT
        try:
            request = self.client.build_request(method, url, json=json, params=params, headers=self._headers())
        except (httpx.InvalidURL, UnicodeEncodeError, ValueError) as exc:
            # nothing was sent: a base URL or a key that cannot go into a request
            raise InvalidRequest(
                f"The request could not be built ({exception_detail(exc)}): check the base URL and the key."
            ) from None
        self.request_count += 1
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.send(request, stream=True)
                try:
                    if response.is_redirect:
                        raise self._redirected(response)
                    body = await read_bounded(response, self.max_body, self._too_large)
                finally:
                    await response.aclose()
        except MjError:
            raise
        except TimeoutError:  # the total deadline, whatever the server was doing
            raise RequestTimeout(
                f"The server did not finish answering within {self.timeout:g}s." + slow,
                outcome_unknown=not idempotent,
            ) from None
        except httpx.TimeoutException:
            raise RequestTimeout("The server did not answer in time." + slow, outcome_unknown=not idempotent) from None
        except _BadBody as exc:
            raise MalformedResponse(
                f"The provider's answer could not be read: {exc}." + unsure,
                retryable=True,
                outcome_unknown=not idempotent,
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if _bad_location(exc):
                raise Redirected(
                    f"{display_origin(self.base_url)} answered with a redirect to an invalid address. mj-tui does "
                    "not follow redirects for API requests; check the base URL (--base-url, or base_url in the "
                    "profile)."
                ) from None
            raise NetworkError(
                "The connection was dropped before an answer arrived." + unsure, outcome_unknown=not idempotent
            ) from None
        except (httpx.TransportError, OSError):
            # nothing reached the server: safe to say, even for a submit
            raise NetworkError(
                f"Cannot reach {self.client.base_url.host}: check the network and the base URL."
            ) from None
        except httpx.HTTPError as exc:
            raise NetworkError(
                f"The request failed ({exception_detail(exc)})." + unsure, outcome_unknown=not idempotent
            ) from None
        status = response.status_code
        text = _text_of(response, body)
        if status == 429:
            wait = _retry_after(response.headers)
            raise RateLimited(
                "Too many requests: the provider asks to slow down."
                + (f" Try again in {_wait_text(wait)}." if wait else ""),
                status=429,
                retry_after=wait,
                raw=self.scrub(text),
            )
        if status >= 500:
            # a submit that failed inside the server, or behind a gateway (502, 504), may have
            # made the job before failing; 503 says the service took nothing in
            unsure_5xx = not idempotent and status != 503
            raise ServerError(
                f"The provider had a server error (HTTP {status})."
                + (AMBIGUOUS_SUBMIT if unsure_5xx else " Try again shortly."),
                status=status,
                raw=self.scrub(text),
                outcome_unknown=unsure_5xx,
            )
        try:
            payload = parse_json(text)
        except ValueError as exc:
            raise self._unreadable(status, text, str(exc), idempotent=idempotent) from None
        return Reply(status, text, payload)

    def _unreadable(self, status: int, text: str, why: str, *, idempotent: bool) -> MjError:
        # a 2xx/3xx answer that does not parse was most likely cut short on the way: a read
        # asks again, a submit says its outcome is unknown; an error status is the server's word
        cut_short = status < 400
        unsure = AMBIGUOUS_SUBMIT if cut_short and not idempotent else ""
        if "<html" in text[:500].lower():
            return ServerError(
                f"The provider answered with an HTML page (HTTP {status}) instead of JSON; "
                "a gateway in front of it is probably failing." + unsure,
                status=status,
                raw=self.scrub(text),
                retryable=cut_short,
                outcome_unknown=bool(unsure),
            )
        detail = " (nested too deeply)" if why == "nested too deeply" else ""
        return MalformedResponse(
            f"The provider sent a reply that is not valid JSON (HTTP {status}){detail}." + unsure,
            status=status,
            raw=self.scrub(text[:200]),
            retryable=cut_short,
            outcome_unknown=bool(unsure),
        )

    def _too_large(self, declared: int | None) -> MjError:
        cap = fmt_size(self.max_body)
        size = f" ({fmt_size(declared)})" if declared is not None else ""
        return ResponseTooLarge(
            f"The provider's answer{size} is larger than the {cap} an answer may hold; reading stopped. "
            "The server or a proxy in front of it is misbehaving: try again later, and check the base URL "
            "if it goes on."
        )

    def _redirected(self, response: httpx.Response) -> MjError:
        here = str(response.url)
        try:
            target = str(response.url.join(response.headers.get("location", "")))
        except (httpx.InvalidURL, ValueError, TypeError):
            target = ""
        shown = display_origin(target) if target else "an invalid address"
        advice = "If the service has moved, correct the base URL (--base-url, or base_url in the profile)."
        if _upgrade_to_https(here, target):
            advice = f"The base URL should probably start with https://: set it to {shown}."
        return Redirected(
            f"{display_origin(here)} answered with a redirect (HTTP {response.status_code}) to {shown}. "
            "mj-tui does not follow redirects for API requests, so neither the key nor the request "
            f"was sent there. {advice}",
            status=response.status_code,
        )

    async def download(self, url: str, *, max_bytes: int, timeout: float = 60.0) -> Downloaded:
        """GET a file (an image on a CDN) with no auth headers, following redirects.

        Bounded like every answer: `max_bytes` of *decoded* body (a gzip bomb stops at the
        cap) and `timeout` for the whole transfer, not only between bytes.
        """
        where = display_url(url)
        client = self.client
        try:
            async with asyncio.timeout(timeout):
                target = url
                for _hop in range(MAX_DOWNLOAD_REDIRECTS + 1):
                    # no headers= here: the key is only ever added to API requests. Redirects
                    # are followed by hand: httpx would read each 3xx body whole, unbounded.
                    request = client.build_request("GET", target, timeout=timeout)
                    response = await client.send(request, stream=True)
                    try:
                        if response.is_redirect:
                            target = str(response.url.join(response.headers["location"]))
                            continue
                        return await self._downloaded(response, where, max_bytes)
                    finally:
                        await response.aclose()
                raise ImageError(f"{where} redirected too many times; the link looks broken.")
        except ImageError:
            raise
        except (TimeoutError, httpx.TimeoutException):
            raise ImageError(
                f"Timed out after {timeout:g} s downloading {where}. Check your connection and try again.",
                retryable=True,
            ) from None
        except _BadBody as exc:
            raise ImageError(f"The image from {where} could not be read: {exc}.", retryable=True) from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            if _bad_location(exc):
                raise ImageError(f"{where} redirected to an invalid address; the link looks broken.") from None
            raise ImageError(
                f"Could not download {where}: network error ({without_query(exception_detail(exc), url)}).",
                retryable=True,
            ) from None

    async def _downloaded(self, response: httpx.Response, where: str, max_bytes: int) -> Downloaded:
        status = response.status_code
        if status in EXPIRED_STATUSES:
            raise ImageError(
                f"The image link has expired or was removed (HTTP {status} from {where}). "
                "Refresh the task to get a fresh link.",
                status=status,
            )
        if status >= 400:
            raise ImageError(
                f"{where} answered HTTP {status}; the image could not be downloaded.",
                status=status,
                retryable=status >= 500 or status == 429,
            )

        def too_large(declared: int | None) -> MjError:
            return _too_large(where, declared, max_bytes)

        body = await read_bounded(response, max_bytes, too_large)
        return Downloaded(body, response.headers.get("content-type", ""))

    async def aclose(self) -> None:
        await self.client.aclose()


def _bad_location(exc: Exception) -> bool:
    """httpx refuses a 3xx whose Location it cannot parse, even when not following it."""
    return isinstance(exc, httpx.RemoteProtocolError) and "location header" in str(exc).lower()


def _upgrade_to_https(here: str, target: str) -> bool:
    """The redirect only moves the same host from http:// to https://."""
    try:
        a, b = urlsplit(here), urlsplit(target)
        return a.scheme == "http" and b.scheme == "https" and bool(a.hostname) and a.hostname == b.hostname
    except ValueError:
        return False


def _too_large(where: str, declared: int | None, max_bytes: int) -> ImageError:
    cap = fmt_size(max_bytes)
    if declared is None:  # no Content-Length: we only know we passed the cap
        return ImageError(f"The image at {where} is larger than the {cap} download limit; download stopped.")
    return ImageError(f"The image at {where} is {fmt_size(declared)}, above the {cap} download limit; not downloaded.")
