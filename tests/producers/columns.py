"""Column-lineage answers of the HTTP API in the shape the producer tests compare: a version's
fields, and the columns one step up or down from a field, with the (type, subtype) of each
transformation and the version each column belongs to. The client is the in-process app's
TestClient or an httpx client of a running service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from lineage import ids
from lineage.graph import WROTE

Column = tuple[str, str, str]  # namespace, dataset name, field
Transformations = frozenset[tuple[str | None, str | None]]


@dataclass(frozen=True)
class Neighbour:
    """A column one FEEDS edge away from the field asked about."""

    transformations: Transformations
    version_id: str
    placeholder: bool  # the version read is unknown


def answered_fields(client: httpx.Client, version: str) -> dict[str, str | None]:
    """The fields `GET /api/v1/fields` lists for a dataset version, with their types."""
    answer = client.get("/api/v1/fields", params={"ref": version})
    assert answer.status_code == 200, answer.text
    return {str(f["field"]): f.get("type") for f in answer.json()["fields"]}


def neighbours(client: httpx.Client, version: str, field: str, direction: str = "up") -> dict[Column, Neighbour]:
    """The columns one step `up` (what the field is made from) or `down` (what it feeds) that
    `GET /api/v1/column-lineage` answers, DIRECT and INDIRECT edges both."""
    answer = client.get(
        "/api/v1/column-lineage",
        params={"ref": version, "field": field, "direction": direction, "depth": 1, "transformations": "all"},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    start = body["field"]["id"]
    found = {f["id"]: f for f in body["fields"]}
    out: dict[Column, Neighbour] = {}
    for edge in body["edges"]:
        if (edge["dst"] if direction == "up" else edge["src"]) != start:
            continue
        other = found[edge["src"] if direction == "up" else edge["dst"]]
        column = (str(other["namespace"]), str(other["name"]), str(other["field"]))
        assert column not in out, f"two edges between {field} and {column}"
        out[column] = Neighbour(
            frozenset((t.get("type"), t.get("subtype")) for t in edge["transformations"]),
            str(other["version_id"]),
            bool(other.get("placeholder")),
        )
    return out


def made_from(client: httpx.Client, version: str, field: str) -> dict[Column, Transformations]:
    """The input columns one step upstream of `version`'s `field`, with their transformations."""
    return {column: n.transformations for column, n in neighbours(client, version, field, "up").items()}


def written_version(client: httpx.Client, run: str, namespace: str, name: str) -> str:
    """The id of the version of a dataset that a run wrote, as `GET /api/v1/nodes/{id}` shows
    the run's WROTE edges (found in the graph, not computed here)."""
    answer = client.get(f"/api/v1/nodes/{ids.run_id(run)}")
    assert answer.status_code == 200, answer.text
    dataset = ids.dataset_id(namespace, name)
    found = []
    for edge in answer.json()["out"]:
        if edge["type"] == WROTE:
            version = client.get(f"/api/v1/nodes/{edge['dst']}").json()
            if version["props"].get("dataset") == dataset:
                found.append(str(edge["dst"]))
    assert len(found) == 1, f"run {run} wrote {len(found)} versions of {namespace}:{name}"
    return found[0]
