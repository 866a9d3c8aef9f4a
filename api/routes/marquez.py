"""Marquez's v1 API beside ours, in Marquez's JSON shapes, so tools that read Marquez read us (issue 30)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import IngestDep, StoreDep, require
from api.responses import json_response
from lineage import marquez
from lineage.ids import dataset_id, job_id
from lineage.ingest.parse import parse_event
from lineage.service import annotation_body, now

router = APIRouter(prefix="/api/v1", tags=["marquez"])
# Stands for a `/` that came percent-encoded inside one path segment (see EncodedSlashes).
SLASH = "\ue000"
MARQUEZ_PATHS = (b"/api/v1/namespaces/", b"/api/v1/sources/")
read = [require("read")]
write = [require("ingest")]

Limit = Annotated[int, Query(ge=0, le=10_000)]
# Marquez reads offset as a Java int; past it, a clear 400 rather than an overflow in the store.
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
# Who a tag write is recorded as: Marquez's API has no author.
TAG_AUTHOR = "marquez-api"


class EncodedSlashes:
    """Marquez names resources by path segments that may hold `/` (`s3://datalake`,
    `/warehouse/orders`), sent as `%2F`. The router sees decoded paths, where such a segment
    would split; so under /api/v1/namespaces/ each raw segment is decoded alone, its slashes
    kept as SLASH, which `unslash` turns back in the route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and raw.startswith(MARQUEZ_PATHS) and b"%2f" in raw.lower():
            segments = raw.split(b"?", 1)[0].split(b"/")
            path = "/".join(unquote(s.decode("ascii", "replace")).replace("/", SLASH) for s in segments)
            scope = dict(scope, path=path)
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.add_middleware(EncodedSlashes)


def unslash(value: str) -> str:
    return value.replace(SLASH, "/")


def answer(work: Callable[[], Any], status: int = 200) -> Response:
    """Marquez's answer, or its error shape `{"code", "message"}`."""
    try:
        body = work()
    except marquez.MarquezError as exc:
        return json_response(exc.body(), status_code=exc.status)
    if body is None:
        return Response(status_code=status)
    return json_response(body, status_code=status)


@router.get("/namespaces", dependencies=read, summary="Marquez: namespaces")
def namespaces(store: StoreDep, limit: Limit = marquez.DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    return answer(lambda: marquez.namespaces(store, limit, offset))


@router.get("/namespaces/{namespace}", dependencies=read, summary="Marquez: one namespace")
def namespace(store: StoreDep, namespace: str) -> Response:
    namespace = unslash(namespace)
    return answer(lambda: marquez.namespace(store, namespace))


@router.get("/sources", dependencies=read, summary="Marquez: sources (the dataSource facets datasets name)")
def sources(store: StoreDep, limit: Limit = marquez.DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    return answer(lambda: marquez.sources(store, limit, offset))


@router.get("/sources/{source}", dependencies=read, summary="Marquez: one source")
def source(store: StoreDep, source: str) -> Response:
    source = unslash(source)
    return answer(lambda: marquez.source(store, source))


@router.get("/namespaces/{namespace}/datasets", dependencies=read, summary="Marquez: datasets of a namespace")
def datasets(store: StoreDep, namespace: str, limit: Limit = marquez.DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    namespace = unslash(namespace)
    return answer(lambda: marquez.datasets(store, namespace, limit, offset))


@router.get("/namespaces/{namespace}/datasets/{dataset}", dependencies=read, summary="Marquez: one dataset")
def dataset(store: StoreDep, namespace: str, dataset: str) -> Response:
    namespace, dataset = unslash(namespace), unslash(dataset)
    return answer(lambda: marquez.dataset(store, namespace, dataset))


@router.get("/namespaces/{namespace}/datasets/{dataset}/versions", dependencies=read, summary="Marquez: versions of a dataset")
def dataset_versions(store: StoreDep, namespace: str, dataset: str, limit: Limit = marquez.DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    namespace, dataset = unslash(namespace), unslash(dataset)
    return answer(lambda: marquez.dataset_versions(store, namespace, dataset, limit, offset))


@router.get("/namespaces/{namespace}/datasets/{dataset}/versions/{version}", dependencies=read, summary="Marquez: one dataset version")
def dataset_version(store: StoreDep, namespace: str, dataset: str, version: str) -> Response:
    namespace, dataset = unslash(namespace), unslash(dataset)
    return answer(lambda: marquez.dataset_version(store, namespace, dataset, version))


@router.get("/jobs", dependencies=read, summary="Marquez: jobs of every namespace")
def all_jobs(
    store: StoreDep,
    limit: Limit = marquez.DEFAULT_LIMIT,
    offset: Offset = 0,
    lastRunStates: Annotated[list[str] | None, Query()] = None,  # noqa: N803 (Marquez's name)
) -> Response:
    return answer(lambda: marquez.jobs(store, None, limit, offset, lastRunStates or ()))


@router.get("/namespaces/{namespace}/jobs", dependencies=read, summary="Marquez: jobs of a namespace")
def jobs(
    store: StoreDep,
    namespace: str,
    limit: Limit = marquez.DEFAULT_LIMIT,
    offset: Offset = 0,
    lastRunStates: Annotated[list[str] | None, Query()] = None,  # noqa: N803
) -> Response:
    namespace = unslash(namespace)
    return answer(lambda: marquez.jobs(store, namespace, limit, offset, lastRunStates or ()))


@router.get("/namespaces/{namespace}/jobs/{job}", dependencies=read, summary="Marquez: one job")
def job(store: StoreDep, namespace: str, job: str) -> Response:
    namespace, job = unslash(namespace), unslash(job)
    return answer(lambda: marquez.job(store, namespace, job))


@router.get("/namespaces/{namespace}/jobs/{job}/runs", dependencies=read, summary="Marquez: runs of a job, newest first")
def job_runs(store: StoreDep, namespace: str, job: str, limit: Limit = marquez.DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    namespace, job = unslash(namespace), unslash(job)
    return answer(lambda: marquez.job_runs(store, namespace, job, limit, offset))


@router.get("/namespaces/{namespace}/jobs/{job}/versions", dependencies=read, summary="Marquez: versions of a job, newest first")
def job_versions(store: StoreDep, namespace: str, job: str, limit: Limit = marquez.DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    namespace, job = unslash(namespace), unslash(job)
    return answer(lambda: marquez.job_versions(store, namespace, job, limit, offset))


@router.get("/namespaces/{namespace}/jobs/{job}/versions/{version}", dependencies=read, summary="Marquez: one job version")
def job_version(store: StoreDep, namespace: str, job: str, version: str) -> Response:
    namespace, job = unslash(namespace), unslash(job)
    return answer(lambda: marquez.job_version(store, namespace, job, version))


@router.get("/jobs/runs/{run_id}", dependencies=read, summary="Marquez: one run")
def run(store: StoreDep, run_id: str) -> Response:
    return answer(lambda: marquez.run(store, run_id))


@router.get("/jobs/runs/{run_id}/facets", dependencies=read, summary="Marquez: the run or job facets of a run")
def run_facets(store: StoreDep, run_id: str, type: str | None = None) -> Response:  # noqa: A002 (Marquez's name)
    if type is None:
        return json_response({"errors": ["query param type must not be null"]}, status_code=400)
    return answer(lambda: marquez.run_facets(store, run_id, type))


@router.get("/lineage", dependencies=read, summary="Marquez: job-level lineage around a node id")
def lineage(
    store: StoreDep,
    nodeId: str | None = None,  # noqa: N803 (Marquez's name)
    depth: Annotated[int, Query(ge=0, le=marquez.MAX_LINEAGE_DEPTH)] = marquez.DEFAULT_LINEAGE_DEPTH,
) -> Response:
    if nodeId is None:
        return json_response({"errors": ["query param nodeId must not be null"]}, status_code=400)
    return answer(lambda: marquez.lineage(store, nodeId, depth))


SEARCH_FILTERS = {"DATASET", "JOB"}


@router.get("/search", dependencies=read, summary="Marquez: jobs and datasets whose name contains q")
def search(
    store: StoreDep,
    q: str | None = None,
    filter: str | None = None,  # noqa: A002 (Marquez's name)
    sort: str = "NAME",
    limit: Limit = 10,
    namespace: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> Response:
    if not q or not q.strip():
        return json_response({"errors": ["query param q must not be blank"]}, status_code=400)
    if filter is not None and filter.upper() not in SEARCH_FILTERS:
        return json_response({"code": 400, "message": "query param filter must be one of [DATASET, JOB]"}, status_code=400)

    def work() -> Any:
        since, until = marquez.parse_bound(after, "after"), marquez.parse_bound(before, "before")
        return marquez.search(store, q, filter.upper() if filter else None, limit, namespace, until, since)

    return answer(work)


@router.get("/events/lineage", dependencies=read, summary="Marquez: the stored OpenLineage run events")
def events(
    store: StoreDep,
    before: str | None = None,
    after: str | None = None,
    sortDirection: str = "desc",  # noqa: N803 (Marquez's name)
    limit: Limit = marquez.DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    def work() -> Any:
        since, until = marquez.parse_bound(after, "after"), marquez.parse_bound(before, "before")
        return marquez.events(store, until, since, sortDirection.lower() != "asc", limit, offset)

    return answer(work)


@router.get("/tags", dependencies=read, summary="Marquez: tags")
def tags(store: StoreDep, limit: Limit = marquez.DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    return answer(lambda: marquez.tags(store, limit, offset))


class TagIn(BaseModel):
    description: str | None = None


async def _annotate(ingest: IngestDep, target: str, ref: str, tag: str, reason: str) -> None:
    event = parse_event(annotation_body(target, ref, tag, reason, TAG_AUTHOR, now()))
    await asyncio.wrap_future(ingest.committer.submit([event]))


@router.put("/tags/{tag}", dependencies=write, summary="Marquez: create a tag (kept as an annotation)")
async def create_tag(ingest: IngestDep, tag: str, request: Request) -> Response:
    raw = await request.body()
    description = TagIn.model_validate_json(raw).description if raw.strip() else None
    target, reason = marquez.tag_definition(tag, description)
    await _annotate(ingest, target, target, tag, reason)
    return json_response({"name": tag, "description": description})


async def _tag_target(ingest: IngestDep, node: str, kind: str, name: str, tag: str) -> marquez.MarquezError | None:
    found = await asyncio.to_thread(ingest.store.node, node)
    if found is None:
        return marquez.not_found(kind, name)
    if not await asyncio.to_thread(marquez.tag_known, ingest.store, tag):
        return marquez.not_found("Tag", tag)
    return None


@router.post("/namespaces/{namespace}/datasets/{dataset}/tags/{tag}", dependencies=write, summary="Marquez: tag a dataset")
async def tag_dataset(ingest: IngestDep, store: StoreDep, namespace: str, dataset: str, tag: str) -> Response:
    namespace, dataset = unslash(namespace), unslash(dataset)
    return await _tag_and_answer(ingest, store, namespace, dataset, tag, marquez.TAG_ADD)


@router.delete("/namespaces/{namespace}/datasets/{dataset}/tags/{tag}", dependencies=write, summary="Marquez: untag a dataset")
async def untag_dataset(ingest: IngestDep, store: StoreDep, namespace: str, dataset: str, tag: str) -> Response:
    namespace, dataset = unslash(namespace), unslash(dataset)
    return await _tag_and_answer(ingest, store, namespace, dataset, tag, marquez.TAG_REMOVE)


@router.post(
    "/namespaces/{namespace}/datasets/{dataset}/fields/{field}/tags/{tag}", dependencies=write, summary="Marquez: tag a dataset field"
)
async def tag_field(ingest: IngestDep, store: StoreDep, namespace: str, dataset: str, field: str, tag: str) -> Response:
    namespace, dataset, field = unslash(namespace), unslash(dataset), unslash(field)
    return await _tag_and_answer(ingest, store, namespace, dataset, tag, marquez.TAG_FIELD + field)


async def _tag_and_answer(ingest: IngestDep, store: StoreDep, namespace: str, dataset: str, tag: str, reason: str) -> Response:
    node = dataset_id(namespace, dataset)
    error = await _tag_target(ingest, node, "Dataset", dataset, tag)
    if error is not None:
        return json_response(error.body(), status_code=error.status)
    await _annotate(ingest, node, marquez.node_id("dataset", namespace, dataset), tag, reason)
    return await asyncio.to_thread(answer, lambda: marquez.dataset(store, namespace, dataset))


@router.post("/namespaces/{namespace}/jobs/{job}/tags/{tag}", dependencies=write, summary="Marquez: tag a job")
async def tag_job(ingest: IngestDep, store: StoreDep, namespace: str, job: str, tag: str) -> Response:
    namespace, job = unslash(namespace), unslash(job)
    node = job_id(namespace, job)
    error = await _tag_target(ingest, node, "Job", job, tag)
    if error is not None:
        return json_response(error.body(), status_code=error.status)
    await _annotate(ingest, node, marquez.node_id("job", namespace, job), tag, marquez.TAG_ADD)
    return await asyncio.to_thread(answer, lambda: marquez.job(store, namespace, job, declared_io=False))

