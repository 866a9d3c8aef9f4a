"""Ingest: `POST /api/v1/lineage` (one event) and `/api/v1/lineage/batch`, Marquez-compatible."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from starlette.concurrency import run_in_threadpool

from api.deps import BodyDep, DeadLettersDep, IngestDep, MetricsDep, authorize, read_body, require
from api.errors import error_body, refusal_response, reject_reason
from api.responses import json_response
from lineage.deadletter import rejection_of
from lineage.errors import LineageError, StoreError, StoreUnavailable
from lineage.freshness import positions_of, token
from lineage.service import combine, now
from lineage.store.base import IngestOutcome

ACCEPTED_SEQ = -1  # lineage.kafka_writer.ACCEPTED_SEQ, without importing the Kafka client here

router = APIRouter(prefix="/api/v1", tags=["ingest"])
SINGLE_EVENT = "/api/v1/lineage"


@router.post("/lineage", status_code=201, summary="Ingest one OpenLineage event")
async def post_event(request: Request) -> Response:
    # The hottest route: FastAPI's dependency resolution cost more than the rest of the
    # request handling, so this one checks the token and reads the body itself.
    await authorize(request, "ingest")
    ingest = request.app.state.ingest
    event = ingest.parse_one(await read_body(request))
    (outcome,) = await asyncio.wrap_future((ingest.topic or ingest.committer).submit([event]))
    status = _status(outcome)
    answer: dict[str, object] = {
        "id": outcome.id, "seq": outcome.seq, "status": status, "warnings": [w.to_dict() for w in event.warnings]
    }
    if (place := getattr(outcome, "position", None)) is not None:  # where Kafka put it
        answer["kafka"] = place.to_dict()
    return json_response(answer | _read_after([outcome]), status_code=STATUS_CODES[status])


def _read_after(outcomes: list[IngestOutcome]) -> dict[str, object]:
    """Of events accepted into Kafka: the token a read passes back in X-Lineage-After to be
    answered once the store holds them (lineage/freshness.py); nothing for events stored here."""
    after = token(positions_of(outcomes))
    return {"after": after} if after else {}


# An event written to the Kafka topic (LINEAGE_KAFKA_HTTP_TO_TOPIC) is "accepted": Kafka has
# it, and whether the store sees it as new or a duplicate is known only once a consumer stored it.
STATUS_CODES = {"created": 201, "duplicate": 200, "accepted": 202}


def _status(outcome: IngestOutcome) -> str:
    if outcome.seq == ACCEPTED_SEQ:
        return "accepted"
    return "created" if outcome.created else "duplicate"


@router.post(
    "/lineage/batch", summary="Ingest a JSON array or NDJSON of events; per-event results", dependencies=[require("ingest")]
)
async def post_batch(body: BodyDep, ingest: IngestDep, metrics: MetricsDep, dead: DeadLettersDep) -> Response:
    events, positions, rejected = ingest.parse_batch(body)
    received = now()
    entries = []
    for item in rejected:
        assert item.error is not None
        metrics.rejects.labels(reject_reason(item.error)).inc()
        entries.append(rejection_of(item.raw, item.error, received, item.value))
    if entries:
        try:
            # Kept before the rest is committed: a batch whose refusals cannot be kept is
            # answered 503 whole, and the client's retry is idempotent for what it holds.
            await run_in_threadpool(dead.keep, entries)
        except StoreError as exc:
            if isinstance(exc, StoreUnavailable):
                raise  # its own kind and words (a full disk says so)
            raise StoreUnavailable(f"{len(entries)} refused events could not be kept: {exc}") from None
    outcomes = await asyncio.wrap_future((ingest.topic or ingest.committer).submit(events))
    warnings = {index: event.warnings for index, event in zip(positions, events, strict=True)}
    results = []
    for item in combine(positions, outcomes, rejected):
        if item.outcome is not None:
            status = _status(item.outcome)
            results.append({
                "index": item.index, "status": status, "id": item.outcome.id, "seq": item.outcome.seq,
                "warnings": [w.to_dict() for w in warnings[item.index]],
                **({"kafka": place.to_dict()} if (place := getattr(item.outcome, "position", None)) else {}),
            })
        else:
            assert item.error is not None
            results.append({"index": item.index, "status": "rejected", **error_body(item.error)[1]})
    summary = {
        "created": sum(1 for r in results if r["status"] == "created"),
        "duplicate": sum(1 for r in results if r["status"] == "duplicate"),
        **({"accepted": accepted} if (accepted := sum(1 for r in results if r["status"] == "accepted")) else {}),
        "rejected": len(rejected),
        "results": results,
        **_read_after(outcomes),
    }
    # Partial success is a success; only a batch with nothing usable is the client's error.
    return json_response(summary, status_code=400 if rejected and not events else 200)


class SingleEventPath:
    """`POST /api/v1/lineage` straight to `post_event`, past the router and the layers of
    middleware under this one: on the route every OpenLineage client sends each event to,
    routing and exception plumbing cost more CPU than the route's own work. The route stays
    registered (the OpenAPI document, any request this does not take) and answers the same:
    errors go through the same `refusal_response`, unexpected ones up to the server-error handler.
    """

    def __init__(self, app: ASGIApp, route: APIRoute) -> None:
        self.app = app
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != SINGLE_EVENT or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # what the router would set: the metrics' route label
        request = Request(scope, receive)
        try:
            response = await post_event(request)
        except LineageError as exc:
            response = await refusal_response(request, exc)
        await response(scope, receive, send)


def install_single_event_path(app: FastAPI) -> None:
    """Before `observe.install`, so that the metrics and the request log wrap it."""
    (route,) = [
        r for r in router.routes if isinstance(r, APIRoute) and r.path == SINGLE_EVENT and "POST" in r.methods
    ]
    app.add_middleware(SingleEventPath, route=route)
