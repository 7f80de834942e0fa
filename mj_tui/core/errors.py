"""One exception family for everything the core can report to a user.

Every error carries a message a person can act on.  Messages are built from
our own words plus server text; the API key is never part of one (the HTTP
layer scrubs it from any server text before it gets here).
"""

from __future__ import annotations

from typing import Any


class MjError(Exception):
    """Base of every error the core raises on purpose."""

    #: a short title for toasts and the CLI's stderr line
    title = "Error"
    #: whether a *read* may be retried automatically (submits never are)
    retryable = False

    def __init__(
        self, message: str, *, status: int | None = None, raw: str | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # the server's body, truncated; kept for the log, never shown by default
        self.raw = raw[:2000] if raw else None
        if retryable is not None:  # this one differs from its class (a timeout on one image link)
            self.retryable = retryable

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


class TaskNotFound(MjError):
    title = "Task not found"


class InvalidRequest(MjError):
    """The server refused the parameters (bad prompt, wrong mode, bad mask...)."""

    title = "Request refused"


class PromptRefused(InvalidRequest):
    """The prompt has an error Midjourney would refuse it for: nothing was sent."""

    title = "Prompt not sent"

    def __init__(self, message: str, *, problems: list[str], **kw: Any) -> None:
        super().__init__(message, **kw)
        #: every error, each in a sentence of its own
        self.problems = problems


class HistoryUnavailable(MjError):
    """The local history cannot be written; a paid request is not sent without it."""

    title = "History unavailable"


class OutcomeUnknown(MjError):
    """A paid request may or may not have reached the server; it was not sent again.

    `task` is the unconfirmed entry kept in the history for the person to resolve."""

    title = "Not confirmed"

    def __init__(self, message: str, *, task: Any, **kw: Any) -> None:
        super().__init__(message, **kw)
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
