"""Request dependencies: the services each route needs, and size-limited body reading."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lineage.errors import InvalidEvent, PayloadTooLarge
from lineage.metrics import Metrics
from lineage.service import IngestService, decompress
from lineage.settings import Settings
from lineage.store.base import Store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def get_ingest(request: Request) -> IngestService:
    return request.app.state.ingest  # type: ignore[no-any-return]


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
StoreDep = Annotated[Store, Depends(get_store)]
IngestDep = Annotated[IngestService, Depends(get_ingest)]


async def read_body(request: Request, settings: SettingsDep) -> bytes:
    """The request body, decompressed, refusing anything over the configured size."""
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {declared} bytes is over the limit of {limit} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    body = decompress(b"".join(chunks), request.headers.get("content-encoding"), limit)
    if not body.strip():
        raise InvalidEvent("", "empty body: send an OpenLineage event as JSON")
    return body


BodyDep = Annotated[bytes, Depends(read_body)]
