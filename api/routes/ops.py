"""Operations: health, readiness, and the published JSON schemas of our facets."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import IngestDep, MetricsDep, StoreDep
from api.errors import public_detail
from api.responses import json_response
from lineage.errors import NotFound, StoreError
from lineage.facets import CUSTOM_FACETS, facet_schema

log = logging.getLogger("lineage.api")
router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The store answers and its writer commits; 503 while either does not")
def readyz(request: Request, store: StoreDep, ingest: IngestDep) -> Response:
    stuck = ingest.committer.stalled()
    if stuck > 0:
        # Reads may still work (SQLite's WAL), but ingest cannot commit: not ready (issue 31).
        log.warning("not ready: a commit has run %.1f s past its deadline", stuck)
        return json_response(
            {"status": "unavailable", "store": store.backend, "detail": "the writer is not committing; ingest answers 503"},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    try:
        store.ping()
    except StoreError as exc:
        # The driver's words name internal addresses: they go to the log, not to the caller.
        log.warning("not ready: %s", exc)
        return json_response(
            {"status": "unavailable", "store": store.backend, "detail": public_detail(exc)},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    answer: dict[str, object] = {"status": "ready", "store": store.backend}
    consumer = getattr(request.app.state, "kafka_consumer", None)
    if consumer is not None:
        # The consumer's lag says how far the graph trails the topic (issue 35): not a reason to
        # refuse traffic, since answers are right for what was ingested, but what they may miss.
        answer["kafka"] = consumer.status.to_dict()
    return json_response(answer)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/schemas/facets", summary="Keys of our custom facets")
async def facet_keys() -> dict[str, list[str]]:
    return {"facets": sorted(CUSTOM_FACETS)}


@router.get("/schemas/facets/{key}.json", summary="JSON schema of one custom facet")
async def facet(key: str, request: Request) -> Response:
    if key not in CUSTOM_FACETS:
        raise NotFound(f"no facet {key!r}", suggestions=sorted(CUSTOM_FACETS))
    base = str(request.base_url).rstrip("/")
    return json_response(facet_schema(key, base), media_type="application/schema+json")
