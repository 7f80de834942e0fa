"""The one place that talks HTTP: timeouts, retries for reads, none for submits.

Auth headers are added per request (never as client defaults) so that the
same client can download images from a CDN without sending the key there.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from .credentials import Secret
from .errors import ImageError, MjError, NetworkError, RateLimited, RequestTimeout, ServerError
from .text import exception_detail, fmt_size
from .urls import display_url, without_query

USER_AGENT = "mj-tui/0.1 (+terminal client)"
DOWNLOAD_CHUNK = 64 * 1024
# a link that answers one of these has expired (Discord) or was removed
EXPIRED_STATUSES = frozenset({401, 403, 404, 410})


@dataclass(frozen=True)
class Downloaded:
    """A downloaded file: its bytes and the type the server gave."""

    body: bytes
    content_type: str


AMBIGUOUS_SUBMIT = (
    " The request may or may not have reached the server, so it was not sent again: "
    "check the task list before submitting it once more."
)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        import datetime as _dt

        when = parsedate_to_datetime(value)
        return max(0.0, (when - _dt.datetime.now(when.tzinfo)).total_seconds())
    except (TypeError, ValueError):
        return None


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
    ):
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._auth_headers = auth_headers
        self.retry = retry or RetryPolicy()
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
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

    async def send(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request; reads retry transient faults, submits never do.

        Returns the response for every status below 500 except 429, which the
        dialect then interprets; raises an :class:`MjError` otherwise.
        """
        attempts = self.retry.attempts if idempotent else 1
        last: MjError | None = None
        for attempt in range(attempts):
            if attempt:
                hint = last.retry_after if isinstance(last, RateLimited) else None
                await asyncio.sleep(self.retry.delay(attempt - 1, hint))
            try:
                last = None
                self.request_count += 1
                response = await self.client.request(method, url, json=json, params=params, headers=self._headers())
            except httpx.TimeoutException:
                last = RequestTimeout("The server did not answer in time." + ("" if idempotent else AMBIGUOUS_SUBMIT))
                continue
            except (httpx.TransportError, OSError) as exc:
                dropped = isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))
                if dropped:
                    text = "The connection was dropped before an answer arrived."
                    text += "" if idempotent else AMBIGUOUS_SUBMIT
                else:
                    text = f"Cannot reach {self.client.base_url.host}: check the network and the base URL."
                last = NetworkError(text)
                continue
            if response.status_code == 429:
                wait = _retry_after(response)
                last = RateLimited(
                    "Too many requests: the provider asks to slow down."
                    + (f" Try again in {int(wait)}s." if wait else ""),
                    status=429,
                    retry_after=wait,
                    raw=self.scrub(response.text),
                )
                continue
            if response.status_code >= 500:
                last = ServerError(
                    f"The provider had a server error (HTTP {response.status_code}). Try again shortly.",
                    status=response.status_code,
                    raw=self.scrub(response.text),
                )
                continue
            return response
        assert last is not None
        raise last

    async def download(self, url: str, *, max_bytes: int, timeout: float = 60.0) -> Downloaded:
        """GET a file (an image on a CDN) with no auth headers, following redirects.

        Bounded like every answer: `max_bytes` of *decoded* body (a gzip bomb stops at the
        cap) and `timeout` for the whole transfer, not only between bytes.
        """
        where = display_url(url)
        client = self.client
        try:
            async with asyncio.timeout(timeout):
                async with client.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
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
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        # Refuse before reading a byte of the body.
                        raise _too_large(where, int(declared), max_bytes)
                    body = bytearray()
                    # aiter_bytes yields decoded bytes, so the cap also bounds a gzip bomb.
                    async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                        body += chunk
                        if len(body) > max_bytes:
                            raise _too_large(where, None, max_bytes)
                    return Downloaded(bytes(body), response.headers.get("content-type", ""))
        except ImageError:
            raise
        except (TimeoutError, httpx.TimeoutException):
            raise ImageError(
                f"Timed out after {timeout:g} s downloading {where}. Check your connection and try again.",
                retryable=True,
            ) from None
        except httpx.TooManyRedirects:
            raise ImageError(f"{where} redirected too many times; the link looks broken.") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ImageError(
                f"Could not download {where}: network error ({without_query(exception_detail(exc), url)}).",
                retryable=True,
            ) from None

    async def aclose(self) -> None:
        await self.client.aclose()


def _too_large(where: str, declared: int | None, max_bytes: int) -> ImageError:
    cap = fmt_size(max_bytes)
    if declared is None:  # no Content-Length: we only know we passed the cap
        return ImageError(f"The image at {where} is larger than the {cap} download limit; download stopped.")
    return ImageError(f"The image at {where} is {fmt_size(declared)}, above the {cap} download limit; not downloaded.")
