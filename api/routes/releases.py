"""Release questions: diff, endpoints as of a time, model versions, annotations."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import IngestDep, SettingsDep, StoreDep, require
from api.responses import json_response
from lineage import queries, releases
from lineage.ids import annotation_id

router = APIRouter(prefix="/api/v1", tags=["releases"])


@router.get("/diff", dependencies=[require("read")], summary="What differs upstream of two nodes (e.g. two model versions)")
def diff(
    store: StoreDep,
    settings: SettingsDep,
    from_: Annotated[str, Query(alias="from")],
    to: str,
    depth: Annotated[int, Query(ge=1, le=queries.MAX_DEPTH)] = queries.DEFAULT_DEPTH,
) -> dict[str, Any]:
    return releases.diff(store, from_, to, depth, stale_run_hours=settings.stale_run_hours)


@router.get("/endpoints/{name}", dependencies=[require("read")], summary="Current deployment and history; `at` answers what it served then")
def endpoint(store: StoreDep, settings: SettingsDep, name: str, at: str | None = None) -> dict[str, Any]:
    return releases.endpoint(store, name, at, stale_run_hours=settings.stale_run_hours)


@router.get("/models/{name}/versions", dependencies=[require("read")], summary="Versions with training data, aliases, annotations; last known good")
def model_versions(store: StoreDep, settings: SettingsDep, name: str, before: str | None = None) -> dict[str, Any]:
    return releases.model_versions(store, name, before, stale_run_hours=settings.stale_run_hours)


class AnnotationIn(BaseModel):
    ref: str = Field(min_length=1, max_length=1024)
    tag: str = Field(min_length=1, max_length=64, description="deprecated, quarantined, investigation, known-good, or any tag")
    reason: str = Field(default="", max_length=4096)
    author: str = Field(min_length=1, max_length=256)


@router.post("/annotations", status_code=201, dependencies=[require("ingest")], summary="Tag a node; stored as an event, so it is evidence")
async def annotate(body: AnnotationIn, ingest: IngestDep) -> Response:
    event = await asyncio.to_thread(ingest.annotation, body.ref, body.tag, body.reason, body.author)
    (outcome,) = await asyncio.wrap_future(ingest.committer.submit([event]))
    assert event.annotation is not None
    return json_response(
        {"id": annotation_id(event.id), "event": outcome.id, "seq": outcome.seq, **event.annotation, "created_at": event.event_time},
        status_code=201,
    )
