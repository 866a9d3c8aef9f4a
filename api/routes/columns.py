"""Column lineage (issue 36): ours with `ref` and `field`, Marquez's with `nodeId`, at one path."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import SettingsDep, StoreDep, require
from api.responses import json_response
from lineage import fieldlineage, queries
from lineage.errors import InvalidEvent
from lineage.marquez import columns as marquez_columns
from lineage.marquez.common import MarquezError

router = APIRouter(prefix="/api/v1", tags=["column lineage"], dependencies=[require("read")])

Depth = Annotated[int, Query(ge=1, le=queries.MAX_DEPTH)]


# Tagged marquez too: with `nodeId` (or nothing) its 400s have Marquez's shape (api/errors.py).
@router.get("/column-lineage", tags=["marquez"], summary="Column lineage of a field: ours (ref, field) or Marquez's (nodeId)")
def column_lineage(
    store: StoreDep,
    settings: SettingsDep,
    ref: Annotated[str | None, Query(description="A dataset version (dataset@version), a dataset, or version[field]")] = None,
    field: Annotated[str | None, Query(description="The field's name (leave out with a version[field] ref)")] = None,
    direction: Annotated[str, Query(description="down: what the field feeds; up: what it is made from")] = "down",
    depth: Annotated[int | None, Query(ge=0, le=queries.MAX_DEPTH)] = None,
    transformations: Annotated[str, Query(description="direct: DIRECT edges only; all: DIRECT and INDIRECT")] = "all",
    nodeId: Annotated[str | None, Query(description="Marquez's form: datasetField:ns:name:field, dataset:ns:name or job:ns:name")] = None,  # noqa: N803
    withDownstream: bool = False,  # noqa: N803 (Marquez's name)
) -> Any:
    if nodeId is not None or ref is None:
        # Marquez's shape (docs/marquez.md): what Marquez's clients send, and its errors.
        if nodeId is None:
            return json_response({"errors": ["query param nodeId must not be null"]}, status_code=400)
        try:
            body = marquez_columns.column_lineage(store, nodeId, marquez_columns.DEFAULT_DEPTH if depth is None else depth, withDownstream)
        except MarquezError as exc:
            return json_response(exc.body(), status_code=exc.status)
        return json_response(body)
    if depth == 0:
        raise InvalidEvent("depth", f"must be between 1 and {queries.MAX_DEPTH}")
    return fieldlineage.column_lineage(
        store, ref, field, direction, depth or queries.DEFAULT_DEPTH, transformations, stale_run_hours=settings.stale_run_hours
    )


@router.get("/fields", summary="The fields of a dataset version, with their types and column edges")
def fields(store: StoreDep, ref: str) -> dict[str, Any]:
    return fieldlineage.version_fields(store, ref)
