"""One exception family for everything the core can report to a user.

Every error carries a message a person can act on.  Messages are built from
our own words plus server text; the API key is never part of one (the HTTP
layer scrubs it from any server text before it gets here).
"""

from __future__ import annotations

from typing import Any

from .text import clean

#: the longest message an error keeps: server text quoted in one is cut well before this,
#: so this only stops a bug from pouring a whole answer onto a terminal
MESSAGE_MAX = 2000


class MjError(Exception):
    """Base of every error the core raises on purpose."""

    #: a short title for toasts and the CLI's stderr line
    title = "Error"
    #: whether a *read* may be retried automatically (submits never are)
    retryable = False
    #: a submit that may or may not have reached the server (the answer was lost or
    #: unreadable): the job may exist and be paid for, so it must not simply be sent again
    outcome_unknown = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        raw: str | None = None,
        retryable: bool | None = None,
        outcome_unknown: bool | None = None,
    ) -> None:
        # the last line of defence: whatever a message quotes, it never drives a terminal
        message = clean(message)
        if len(message) > MESSAGE_MAX:
            message = message[: MESSAGE_MAX - 1] + "…"
        super().__init__(message)
        self.message = message
        self.status = status
        # the server's body, truncated; kept for the log, never shown by default
        self.raw = raw[:2000] if raw else None
        if retryable is not None:  # this one differs from its class (a timeout on one image link)
            self.retryable = retryable
        if outcome_unknown is not None:
            self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class AuthError(MjError):
    title = "API key rejected"


class PermissionDenied(MjError):
    title = "No Midjourney permission"


class InsufficientBalance(MjError):
    title = "Balance too low"


class QuotaReached(InsufficientBalance):
    """A cap the provider keeps for the key (jobs a day): nothing more until it resets."""

    title = "Limit reached"


class QueueFull(MjError):
    title = "Queue full"

    def __init__(self, message: str, *, limit: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.limit = limit


class BannedPrompt(MjError):
    title = "Prompt refused"

    def __init__(self, message: str, *, word: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.word = word


class RateLimited(MjError):
    title = "Rate limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(MjError):
    title = "Server error"
    retryable = True


class RequestTimeout(MjError):
    title = "Timed out"
    retryable = True


class NetworkError(MjError):
    title = "Network unreachable"
    retryable = True


class MalformedResponse(MjError):
    title = "Unexpected response"


class ResponseTooLarge(MalformedResponse):
    """An answer past the size cap: reading stopped there (a broken or hostile server)."""

    title = "Answer too large"


class Redirected(MjError):
    """An API request answered with a redirect, which is never followed: the key and the
    request would go with it, possibly to another host."""

    title = "Redirected"


class TaskNotFound(MjError):
    title = "Task not found"


class InvalidRequest(MjError):
    """The server refused the parameters (bad prompt, wrong mode, bad mask...)."""

    title = "Request refused"


class QueryError(InvalidRequest):
    """A search query this client cannot read: an unknown term or a bad value.

    `start`/`end` locate the culprit in the query (None when it is the whole query)."""

    title = "Search"

    def __init__(self, message: str, *, start: int | None = None, end: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.start = start
        self.end = end


class PromptRefused(InvalidRequest):
    """The prompt has an error Midjourney would refuse it for: nothing was sent."""

    title = "Prompt not sent"

    def __init__(self, message: str, *, problems: list[str], **kw: Any) -> None:
        super().__init__(message, **kw)
        #: every error, each in a sentence of its own
        self.problems = problems


class OutcomeUnknown(MjError):
    """A paid request may or may not have reached the server; it was not sent again.

    `task` is the unconfirmed entry kept in the history for the person to resolve."""

    title = "Not confirmed"

    def __init__(self, message: str, *, task: Any, **kw: Any) -> None:
        super().__init__(message, outcome_unknown=True, **kw)
        self.task = task


class Unsupported(MjError):
    """The provider does not offer this (turbo on OhMyGPT, shorten on OhMyGPT...)."""

    title = "Not supported"


class ImageError(MjError):
    title = "Image unavailable"


class CredentialsError(MjError):
    title = "Key storage"


class NoKeyring(CredentialsError):
    title = "No keyring"


class ConfigError(MjError):
    title = "Configuration"


class HistoryError(MjError):
    """The local task history cannot do what was asked."""

    title = "History"


class HistoryNotWritable(HistoryError):
    """A task could not be saved now (read-only file, full disk, locked by another program)."""

    title = "History not writable"
