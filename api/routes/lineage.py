"""Ingest: `POST /api/v1/lineage` (one event) and `/api/v1/lineage/batch`, Marquez-compatible."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import BodyDep, IngestDep, MetricsDep, authorize, read_body, require
from api.errors import error_body, reject_reason
from api.responses import json_response
from lineage.service import combine

router = APIRouter(prefix="/api/v1", tags=["ingest"])


@router.post("/lineage", status_code=201, summary="Ingest one OpenLineage event")
async def post_event(request: Request) -> Response:
    # The hottest route: FastAPI's dependency resolution cost more than the rest of the
    # request handling, so this one checks the token and reads the body itself.
    await authorize(request, "ingest")
    ingest = request.app.state.ingest
    event = ingest.parse_one(await read_body(request))
    (outcome,) = await asyncio.wrap_future(ingest.committer.submit([event]))
    return json_response(
        {"id": outcome.id, "seq": outcome.seq, "status": "created" if outcome.created else "duplicate"},
        status_code=201 if outcome.created else 200,
    )


@router.post(
    "/lineage/batch", summary="Ingest a JSON array or NDJSON of events; per-event results", dependencies=[require("ingest")]
)
async def post_batch(body: BodyDep, ingest: IngestDep, metrics: MetricsDep) -> Response:
    events, positions, rejected = ingest.parse_batch(body)
    for item in rejected:
        assert item.error is not None
        metrics.rejects.labels(reject_reason(item.error)).inc()
    outcomes = await asyncio.wrap_future(ingest.committer.submit(events))
    results = []
    for item in combine(positions, outcomes, rejected):
        if item.outcome is not None:
            status = "created" if item.outcome.created else "duplicate"
            results.append({"index": item.index, "status": status, "id": item.outcome.id, "seq": item.outcome.seq})
        else:
            assert item.error is not None
            results.append({"index": item.index, "status": "rejected", **error_body(item.error)[1]})
    summary = {
        "created": sum(1 for r in results if r["status"] == "created"),
        "duplicate": sum(1 for r in results if r["status"] == "duplicate"),
        "rejected": len(rejected),
        "results": results,
    }
    # Partial success is a success; only a batch with nothing usable is the client's error.
    return json_response(summary, status_code=400 if rejected and not events else 200)
