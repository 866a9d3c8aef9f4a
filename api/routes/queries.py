"""Graph queries: impact, upstream, graph, search, dataset versions, nodes and raw events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import SettingsDep, StoreDep, require
from lineage import fieldlineage, queries

router = APIRouter(prefix="/api/v1", tags=["queries"], dependencies=[require("read")])

Ref = Annotated[
    str,
    Query(
        description="A ref (docs/refs.md): node id, dataset:ns:name or job:ns:name, naming-spec URI, namespace:name, "
        "name, dataset@version, model@version, job @ start time, run UUID or sha prefix"
    ),
]
Depth = Annotated[int, Query(ge=1, le=queries.MAX_DEPTH)]


AllRuns = Annotated[bool, Query(description="List child runs that touch no dataset instead of counting them under their parent")]
# Issue 36: with a field, impact and upstream answer for that column (docs/column-lineage.md).
Field = Annotated[str | None, Query(description="A field of the version the ref names: answer with its column lineage")]
Transformations = Annotated[str, Query(description="With field: direct (DIRECT edges only) or all")]


# Two levels of answer (issue 34, docs/http-api.md).
Level = Annotated[
    str | None,
    Query(description="dataset: each dataset and job once, with counts (the default for a dataset or job ref); "
          "version: version-exact, paged by cursor and limit (the default, unpaged, for any other ref)"),
]
Since = Annotated[str | None, Query(description="Count versions and runs from this time on (ISO 8601; level=dataset)")]
Until = Annotated[str | None, Query(description="Count versions and runs before this time (ISO 8601; level=dataset)")]
Cursor = Annotated[str | None, Query(description="The next_cursor of the page before (level=version)")]
Limit = Annotated[int | None, Query(ge=1, le=queries.MAX_PAGE, description="Items per page (level=version)")]


@router.get("/impact", summary="Everything downstream of a ref, and the endpoints it reached")
def impact(
    store: StoreDep, settings: SettingsDep, ref: Ref, depth: Depth = queries.DEFAULT_DEPTH, all_runs: AllRuns = False,
    level: Level = None, since: Since = None, until: Until = None, cursor: Cursor = None, limit: Limit = None,
    field: Field = None, transformations: Transformations = "all",
) -> dict[str, Any]:
    if field is not None:
        return fieldlineage.column_lineage(store, ref, field, "down", depth, transformations, stale_run_hours=settings.stale_run_hours)
    return queries.impact(
        store, ref, depth, stale_run_hours=settings.stale_run_hours, all_runs=all_runs,
        level=level, since=since, until=until, cursor=cursor, limit=limit,
    )


@router.get("/upstream", summary="Provenance of a ref: commits, data, features, runs, models")
def upstream(
    store: StoreDep, settings: SettingsDep, ref: Ref, depth: Depth = queries.DEFAULT_DEPTH, all_runs: AllRuns = False,
    level: Level = None, since: Since = None, until: Until = None, cursor: Cursor = None, limit: Limit = None,
    field: Field = None, transformations: Transformations = "all",
) -> dict[str, Any]:
    if field is not None:
        return fieldlineage.column_lineage(store, ref, field, "up", depth, transformations, stale_run_hours=settings.stale_run_hours)
    return queries.upstream(
        store, ref, depth, stale_run_hours=settings.stale_run_hours, all_runs=all_runs,
        level=level, since=since, until=until, cursor=cursor, limit=limit,
    )


@router.get("/graph", summary="Nodes and edges around a ref, for drawing")
def graph(
    store: StoreDep, settings: SettingsDep, ref: Ref, direction: str = "both", depth: Depth = 3,
    level: Level = None, since: Since = None, until: Until = None, cursor: Cursor = None, limit: Limit = None,
) -> dict[str, Any]:
    return queries.graph(
        store, ref, direction, depth, stale_run_hours=settings.stale_run_hours,
        level=level, since=since, until=until, cursor=cursor, limit=limit,
    )


# Our search moved here from /api/v1/search, which answers in Marquez's shape (issue 30).
@router.get("/nodes/search", summary="Nodes whose name, version or handle contains q; fields whose name starts with it")
def search(
    store: StoreDep, q: str, kind: str | None = None, limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 20
) -> dict[str, Any]:
    return queries.search(store, q, kind, limit)


@router.get("/versions", summary="Versions of the dataset a ref names, newest first")
def versions(
    store: StoreDep, ref: Ref, limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 100
) -> dict[str, Any]:
    return queries.versions(store, ref, limit)


@router.get("/nodes/{node_id}", summary="One node with its edges, annotations and event count")
def node(store: StoreDep, node_id: str) -> dict[str, Any]:
    return queries.node_detail(store, node_id)


@router.get("/events", summary="Raw events from the log, filtered and paged; carries the total")
def events(
    store: StoreDep,
    run: str | None = None,
    ref: str | None = None,
    job: str | None = None,
    dataset: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 100,
    cursor: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return queries.events(store, run=run, ref=ref, job=job, dataset=dataset, since=since, until=until, limit=limit, cursor=cursor)
