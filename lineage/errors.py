"""The service's one error tree; `api/errors.py` maps it to HTTP status codes.

    LineageError
    ├── InvalidEvent      bad input: the event cannot be understood (400)
    ├── PayloadTooLarge   bad input: over a size limit (413)
    ├── BodyTimeout       a request body that did not arrive whole in time (408)
    ├── NotFound          a ref or node that does not exist (404)
    ├── Ambiguous         a ref that names several nodes (409)
    ├── Unauthorized      no valid bearer token (401)
    ├── Forbidden         a token without the scope the route needs (403)
    ├── NotYetStored      a read that waits for events Kafka holds and the store does not yet (503)
    └── StoreError        our fault: the store failed (5xx)
        ├── IngestFault        an unexpected error while ingesting, not the store's (500)
        └── StoreUnavailable   the store cannot be reached right now (503)
            └── DiskFull       the store's disk has no room left (503, retried later)
"""

from __future__ import annotations

from typing import Any


class LineageError(Exception):
    """Base of every error this service raises on purpose."""


class InvalidEvent(LineageError):
    """An event (or request body) that cannot be understood; `field` names where."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem
        self.raw = b""  # the refused input as sent, where it is not the whole request body


class PayloadTooLarge(LineageError):
    """A request body or batch over the configured limit. Where the body was read, `sample`
    holds its first bytes, `size` its whole size and `sha256` its hash (None when it was not
    read to its end), for the dead-letter store."""

    def __init__(self, message: str, sample: bytes = b"", size: int | None = None, sha256: str | None = None) -> None:
        super().__init__(message)
        self.sample = sample
        self.size = size
        self.sha256 = sha256


class BodyTimeout(LineageError):
    """A request body still arriving at its deadline (issue 31): refused, and its bytes freed."""


class NotFound(LineageError):
    """Nothing matches; `suggestions` lists near matches."""

    def __init__(self, message: str, suggestions: list[Any] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


class Ambiguous(LineageError):
    """Several nodes match; `candidates` lists them."""

    def __init__(self, message: str, candidates: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.candidates = candidates


class Unauthorized(LineageError):
    """No bearer token, or one that is unknown or revoked."""


class Forbidden(LineageError):
    """A valid token without the scope the request needs."""


class StoreError(LineageError):
    """The backend failed in a way the client may retry. The message (a driver's words, an
    address) is for the log; `public`, where given, is what a caller may read (issue 31), and
    `retry_after` the seconds a 503 asks the caller to wait."""

    def __init__(self, message: str = "", public: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.public = public
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        # Crosses the writer process's pipe whole (pickling would otherwise drop the keywords).
        return (type(self), (str(self), self.public, self.retry_after))


class IngestFault(StoreError):
    """An unexpected error of ours while ingesting (in the projection, say), rather than the
    store's: HTTP answers it 500 like a store error, but a Kafka consumer sets the event that
    raised it aside instead of retrying it forever (docs/kafka.md). `kind` and `message` are
    those of the original exception."""

    def __init__(self, message: str = "", public: str | None = None, retry_after: int | None = None,
                 kind: str = "", original: str = "") -> None:
        super().__init__(message, public, retry_after)
        self.kind = kind
        self.original = original

    @classmethod
    def of(cls, exc: BaseException) -> IngestFault:
        fault = cls(f"{type(exc).__name__}: {exc}", kind=type(exc).__name__, original=str(exc))
        fault.__cause__ = exc
        return fault

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.public, self.retry_after, self.kind, self.original))


class NotYetStored(LineageError):
    """A read asked to wait for events acknowledged by Kafka (a read-after token) that the
    consumers had not stored within the bound: 503 with Retry-After, retried by the caller."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.public = message
        self.retry_after = retry_after


class StoreUnavailable(StoreError):
    """The backend cannot be reached right now."""


class DiskFull(StoreUnavailable):
    """The store's disk has no room for a write. A 503 that clients retry (they do not retry
    507); reads go on, and writes work again once space returns (issue 31)."""

    def __init__(self, message: str = "", public: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(
            message,
            public or "the store's disk is full: nothing was stored; retry once an operator has freed space",
            retry_after or DISK_FULL_RETRY_AFTER_S,
        )


# A full disk does not empty itself in a second: clients are asked to wait longer.
DISK_FULL_RETRY_AFTER_S = 10
