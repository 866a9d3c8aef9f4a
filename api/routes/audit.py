"""Compliance: the audit report in five formats, the hash-chain check, and the report's schema."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import SettingsDep, StoreDep, require
from api.responses import json_response
from lineage.errors import InvalidEvent
from lineage.reports.audit import SCHEMA_PATH, build_report
from lineage.reports.render import RENDERERS, renderer
from lineage.reports.schema import audit_schema
from lineage.reports.verify import Anchor, verify, well_formed_head

router = APIRouter(tags=["audit"])

Ref = Annotated[str, Query(description="A model version (churn@2.3.1), an endpoint name or a dataset version label, or a node id")]
Format = Annotated[str, Query(alias="format", description=f"One of {', '.join(RENDERERS)}")]
Check = Annotated[
    Literal["evidence", "chain"],
    Query(description="evidence: check the listed evidence entries and the head where they stand in the hash chain; chain: walk the whole log"),
]


def _filename(label: str, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "report"
    return f"audit-{stem}.{extension}"


_DOCUMENTS = {"content": {r.media_type.split(";")[0]: {} for r in RENDERERS.values()}, "description": "The report in the format asked for"}


@router.get(
    "/api/v1/audit",
    dependencies=[require("read")],
    summary="Audit report for a model version, endpoint or dataset version",
    response_class=Response,
    responses={200: _DOCUMENTS},
)
def audit(store: StoreDep, settings: SettingsDep, request: Request, ref: Ref, format_: Format = "json", check: Check = "evidence") -> Response:
    """The release chain, training setup, approvals, alias history, deployment timeline,
    annotations, immutability violations and the raw events behind each fact. The
    `X-Lineage-Log-Head` and `X-Lineage-Log-Entries` headers name the log state it was made from;
    `X-Lineage-Warnings` counts where the chain is incomplete (listed first in the report)."""
    chosen = renderer(format_)  # an unknown format is refused before any work
    base = str(request.base_url).rstrip("/")
    report = build_report(
        store,
        ref,
        schema_url=base + SCHEMA_PATH,
        whole_chain=check == "chain",
        stale_run_hours=settings.stale_run_hours,
        requested_by=getattr(request.state, "token_name", None),  # set by `require` when auth is on
        base_url=base,
    )
    headers = {
        "Content-Disposition": f'inline; filename="{_filename(report["subject"]["label"], chosen.extension)}"',
        "X-Lineage-Log-Head": report["log"]["head"],
        "X-Lineage-Log-Entries": str(report["log"]["entries"]),
        "X-Lineage-Warnings": str(len(report["warnings"])),  # where the chain is incomplete (issue 29)
    }
    return Response(chosen.render(report), media_type=chosen.media_type, headers=headers)


@router.get("/api/v1/verify", dependencies=[require("read")], summary="Check the event log's hash chain; name the first bad entry")
def verify_log(
    store: StoreDep,
    entries: Annotated[int | None, Query(ge=0, description="With head: a report's log.entries, to check the log still holds it")] = None,
    head: Annotated[str | None, Query(description="With entries: a report's log.head")] = None,
) -> dict[str, Any]:
    if (entries is None) != (head is None):
        raise InvalidEvent("head" if head is None else "entries", "give entries and head together")
    if head is not None and not well_formed_head(head):
        raise InvalidEvent("head", "must be 64 lowercase hex digits")
    return verify(store, Anchor(entries, head) if entries is not None and head is not None else None)


@router.get("/schemas/audit.json", summary="JSON schema of the audit report (format=json)")
async def schema(request: Request) -> Response:
    return json_response(audit_schema(str(request.base_url)), media_type="application/schema+json")
