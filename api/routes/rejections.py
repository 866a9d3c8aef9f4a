"""The dead-letter store over HTTP (issue 29): refused events listed, shown, replayed, dismissed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from api.deps import StoreDep, require
from lineage.deadletter import replay, summary
from lineage.errors import NotFound
from lineage.events import Event
from lineage.store.base import IngestOutcome, Rejection, Store

router = APIRouter(prefix="/api/v1/rejections", tags=["rejections"], dependencies=[require("admin")])
# Ids are SQLite integers (and Neo4j's): anything past 2^63 names no entry and cannot be asked for.
MAX_ID = 2**63 - 1
EntryId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _entry(store: Store, rejection_id: int) -> Rejection:
    entry = store.rejection(rejection_id)
    if entry is None:
        raise NotFound(f"no dead-letter entry {rejection_id}")
    return entry


@router.get("", summary="Refused events, newest first; `before` pages on")
def list_rejections(
    store: StoreDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only entries with a smaller id (the `next` of a page)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    entries = store.rejections(before, limit)
    stats = store.rejection_stats()
    return {
        "entries": [summary(e) for e in entries],
        "next": entries[-1].id if len(entries) == limit else None,
        "total": stats.entries,
        "bytes": stats.bytes,
        "dropped": stats.dropped,  # entries the bounds dropped, oldest first
    }


@router.get("/{rejection_id}", summary="One refused event, with its body as sent")
def show_rejection(rejection_id: EntryId, store: StoreDep) -> dict[str, Any]:
    return summary(_entry(store, rejection_id), with_body=True)


@router.post("/{rejection_id}/replay", summary="Submit a refused event again; it leaves the store once accepted")
async def replay_rejection(rejection_id: EntryId, request: Request, store: StoreDep) -> dict[str, Any]:
    entry = await run_in_threadpool(_entry, store, rejection_id)
    committer = request.app.state.ingest.committer

    def ingest(events: list[Event]) -> list[IngestOutcome]:
        # Through the group commit, as any ingest request: acknowledged once committed.
        return committer.submit(events).result()

    return (await run_in_threadpool(replay, store, entry, ingest)).to_dict()


@router.delete("/{rejection_id}", summary="Dismiss a refused event for good")
def dismiss_rejection(rejection_id: EntryId, store: StoreDep) -> dict[str, Any]:
    if not store.delete_rejection(rejection_id):
        raise NotFound(f"no dead-letter entry {rejection_id}")
    return {"id": rejection_id, "status": "dismissed"}
