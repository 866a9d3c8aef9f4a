"""Request dependencies: the services each route needs, and size-limited body reading."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from lineage.auth import Authenticator
from lineage.deadletter import DeadLetters
from lineage.errors import BodyTimeout, Forbidden, InvalidEvent, PayloadTooLarge, Unauthorized
from lineage.metrics import Metrics
from lineage.service import IngestService, Overloaded, decompress
from lineage.settings import Settings
from lineage.store.base import Store


# Dependencies are `async def` although they only read app state: FastAPI runs a plain `def`
# dependency in the thread pool, and that hop cost more than anything else on the ingest path.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


async def get_ingest(request: Request) -> IngestService:
    return request.app.state.ingest  # type: ignore[no-any-return]


async def get_dead_letters(request: Request) -> DeadLetters:
    return request.app.state.dead_letters  # type: ignore[no-any-return]


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
StoreDep = Annotated[Store, Depends(get_store)]
IngestDep = Annotated[IngestService, Depends(get_ingest)]
DeadLettersDep = Annotated[DeadLetters, Depends(get_dead_letters)]


# How far an oversized body is still read (not kept: hashed and counted), so that its
# dead-letter entry carries its size and sha256; past this the entry says it was not read whole.
OVERSIZE_READ_FACTOR = 4
OVERSIZE_READ_MIN = 16 * 1024 * 1024


async def _refuse_oversized(request: Request, limit: int, head: list[bytes], read: int, message: str) -> PayloadTooLarge:
    """The refusal of an oversized body, with its first bytes, size and hash where it could be read."""
    keep = request.app.state.settings.rejection_sample_bytes
    sample = b"".join(head)[:keep]
    digest = hashlib.sha256(b"".join(head))
    total, whole = read, True
    cap = max(limit * OVERSIZE_READ_FACTOR, OVERSIZE_READ_MIN)
    async for chunk in request.stream():
        if total > cap:
            whole = False
            break
        digest.update(chunk)
        if len(sample) < keep:
            sample += chunk[: keep - len(sample)]
        total += len(chunk)
    declared = request.headers.get("content-length")
    size = total if whole else int(declared) if declared and declared.isdigit() else total
    return PayloadTooLarge(message, sample=sample, size=size, sha256=digest.hexdigest() if whole else None)


class BodyBudget:
    """The bytes of request bodies still arriving that one API process holds, all requests
    together (issue 31): stalled uploads cannot pin more memory than this. The event loop is
    the only user, so no lock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> None:
        if self.held + size > self.limit:
            raise Overloaded(
                f"{self.held} bytes of unfinished bodies held; {size} more would pass {self.limit}",
                public="too many request bodies are arriving at once; retry later",
                retry_after=1,
            )
        self.held += size

    def give(self, size: int) -> None:
        self.held -= size


async def read_body(request: Request) -> bytes:
    """The request body, decompressed, refusing anything over the configured size, anything
    that does not arrive whole within `body_read_seconds` (408), and anything that would pass
    the process's budget for unfinished bodies (503). The body is left on `request.state.body`
    for the dead-letter store, should the event be refused."""
    settings = request.app.state.settings
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise await _refuse_oversized(request, limit, [], 0, f"body of {declared} bytes is over the limit of {limit} bytes")
    budget: BodyBudget = request.app.state.body_budget
    chunks: list[bytes] = []
    total = 0
    try:
        async with asyncio.timeout(settings.body_read_seconds):
            async for chunk in request.stream():
                budget.take(len(chunk))
                total += len(chunk)
                chunks.append(chunk)
                if total > limit:
                    budget.give(total)
                    held, total = total, 0
                    raise await _refuse_oversized(request, limit, chunks, held, f"body is over the limit of {limit} bytes")
    except Overloaded:
        request.scope["lineage.unread_body"] = True
        raise
    except TimeoutError:
        chunks.clear()
        request.scope["lineage.unread_body"] = True
        raise BodyTimeout(f"the body did not arrive whole within {settings.body_read_seconds:g} s ({total} bytes came)") from None
    finally:
        budget.give(total)
    try:
        body = decompress(b"".join(chunks), request.headers.get("content-encoding"), limit)
    except PayloadTooLarge as exc:
        keep = request.app.state.settings.rejection_sample_bytes
        sent = b"".join(chunks)  # the compressed body as sent
        exc.sample, exc.size, exc.sha256 = sent[:keep], total, hashlib.sha256(sent).hexdigest()
        raise
    request.state.body = body
    if not body.strip():
        raise InvalidEvent("", "empty body: send an OpenLineage event as JSON")
    return body


BodyDep = Annotated[bytes, Depends(read_body)]


def require(scope: str) -> Any:
    """A dependency that lets a request through only with a token carrying `scope`
    (or any request, while auth is not enforced). OpenLineage clients' `api_key` sends
    exactly this header."""

    async def check(request: Request) -> None:
        await authorize(request, scope)

    return Depends(check)


async def authorize(request: Request, scope: str) -> None:
    """Let the request through only with a token carrying `scope` (or while auth is not enforced)."""
    auth: Authenticator = request.app.state.auth
    # The cache answers almost every request; a thread hop costs more than the check.
    enforced = auth.enforced_cached()
    if enforced is None:
        enforced = await run_in_threadpool(auth.enforced)
    if not enforced:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    hit, record = auth.lookup_cached(token.strip())
    if not hit:
        record = await run_in_threadpool(auth.lookup, token.strip())
    if record is None or record.revoked_at is not None:
        raise Unauthorized("unknown or revoked token")
    if not record.allows(scope):
        raise Forbidden(f"token {record.name!r} lacks the {scope!r} scope")
    request.state.token_name = record.name  # who asked, for the audit report (issue 33)
