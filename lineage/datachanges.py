"""What changed between two versions of a dataset (issue 37, point 2): columns from the `schema`
facet, statistics, quality metrics and failed assertions, and whether a breaking schema change
came under a version label that kept its major part (a data contract break)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lineage.graph import READ, WROTE, Node
from lineage.refs import display, handle
from lineage.store.base import Store

# SemVer's core, with an optional leading "v" and anything after it (pre-release, build, or a
# name prefix such as "data-v1.8.2"): only the major part is compared.
_SEMVER = re.compile(r"^(?:.*?[^0-9.])?v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")
STATISTICS = ("outputStatistics", "inputStatistics")


def major(label: str | None) -> int | None:
    """The major part of a SemVer-looking label, or None when the label does not look like one."""
    found = _SEMVER.match(label or "")
    return int(found.group(1)) if found else None


def _flatten(fields: Any, prefix: str, out: dict[str, str]) -> None:
    for field in fields if isinstance(fields, list) else []:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            continue
        name = prefix + field["name"]
        out[name] = str(field.get("type") or "")
        _flatten(field.get("fields"), name + ".", out)  # nested struct fields, by dotted path


def columns(node: Node) -> dict[str, str]:
    """Column name -> type, from the version's `schema` facet (nested fields by dotted path)."""
    schema = (node.props.get("facets") or {}).get("schema")
    out: dict[str, str] = {}
    if isinstance(schema, dict):
        _flatten(schema.get("fields"), "", out)
    return out


def column_changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {
        "added": [{"name": c, "type": after[c]} for c in sorted(set(after) - set(before))],
        "removed": [{"name": c, "type": before[c]} for c in sorted(set(before) - set(after))],
        "retyped": [{"name": c, "from": before[c], "to": after[c]} for c in sorted(set(before) & set(after)) if before[c] != after[c]],
    }


def previous_version(version: Node, siblings: Sequence[Node]) -> Node | None:
    """The newest version of the same dataset written before `version`, by eventTime (ties by
    id, so both stores pick the same); None when `version` has no time or none came before."""
    moment = version.props.get("written_at")
    if not moment:
        return None
    earlier = [
        n for n in siblings
        if n.id != version.id and not n.props.get("placeholder") and n.props.get("written_at") and (n.props["written_at"], n.id) < (moment, version.id)
    ]
    return max(earlier, key=lambda n: (n.props["written_at"], n.id), default=None)


def contract_break(before: Node, after: Node) -> str | None:
    """Why `after` breaks the data contract of `before`, or None: a column removed or retyped
    while both labels look like SemVer and the major part did not grow. Versions without a
    schema facet are not judged (an unknown schema is not a changed one)."""
    old, new = columns(before), columns(after)
    if not old or not new:
        return None
    a, b = major(before.props.get("version")), major(after.props.get("version"))
    if a is None or b is None or b > a:
        return None
    changes = column_changes(old, new)
    breaking = [f"removed {c['name']}" for c in changes["removed"]] + [f"{c['name']} {c['from']} -> {c['to']}" for c in changes["retyped"]]
    if not breaking:
        return None
    return (
        f"{display(after)} breaks the schema of {display(before)} ({', '.join(breaking)}) "
        f"without a new major version ({before.props.get('version')} -> {after.props.get('version')})"
    )


# Versions read per version to find the one before it: ties on written_at with a larger id
# come first in `versions_at` and are skipped, so a few more than one are asked for.
PREVIOUS_SCAN = 8


def previous_of(store: Store, version: Node) -> Node | None:
    """The newest version of the same dataset written before `version` (see `previous_version`),
    read by index: the cost is one indexed read, however long the dataset's history is."""
    moment = version.props.get("written_at")
    if not moment:
        return None
    return previous_version(version, store.versions_at(str(version.props.get("dataset")), moment, PREVIOUS_SCAN))


def own_break(store: Store, version: Node) -> str | None:
    """The contract break of `version` against the newest version of its dataset before it."""
    if not columns(version):
        return None
    previous = previous_of(store, version)
    return contract_break(previous, version) if previous is not None else None


def io_facets(store: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per version, the facets its writers and readers put on the edges (statistics and quality
    results are input and output facets): what a writer said first, then readers, newest
    key by key as the projection merged them per edge. One round trip."""
    found = store.around(ids, in_types=(WROTE, READ)) if ids else None
    out: dict[str, dict[str, Any]] = {i: {} for i in ids}
    edges = sorted(found.edges if found else [], key=lambda e: (e.type != WROTE, e.src, e.key))
    for edge in edges:
        for key, value in (edge.props.get("facets") or {}).items():
            out.setdefault(edge.dst, {}).setdefault(key, value)
    return out


def _facet(node: Node | None, io: dict[str, Any], key: str) -> Any:
    if node is None:
        return None
    own = (node.props.get("facets") or {}).get(key)
    return own if own is not None else io.get(key)


def _statistics(node: Node | None, io: dict[str, Any]) -> dict[str, Any] | None:
    for key in STATISTICS:
        facet = _facet(node, io, key)
        if isinstance(facet, dict):
            return {k: v for k, v in facet.items() if not k.startswith("_")}
    return None


def _failed_assertions(node: Node | None, io: dict[str, Any]) -> list[dict[str, Any]]:
    facet = _facet(node, io, "dataQualityAssertions")
    assertions = facet.get("assertions") if isinstance(facet, dict) else None
    return [a for a in assertions or [] if isinstance(a, dict) and a.get("success") is False]


def _metrics(node: Node | None, io: dict[str, Any]) -> dict[str, Any] | None:
    facet = _facet(node, io, "dataQualityMetrics")
    return {k: v for k, v in facet.items() if not k.startswith("_")} if isinstance(facet, dict) else None


def compare(before: Node | None, after: Node | None, io: dict[str, dict[str, Any]], contract: str | None = None) -> dict[str, Any]:
    """The data changes from `before` to `after` (either may be missing): columns, statistics
    and quality on both sides; `contract` is the contract break of `after` against its own
    previous version (`contract_break`), which need not be `before`."""
    left, right = io.get(before.id, {}) if before else {}, io.get(after.id, {}) if after else {}
    return {
        "from": handle(before) if before else None,
        "to": handle(after) if after else None,
        "columns": column_changes(columns(before) if before else {}, columns(after) if after else {}),
        "schema_known": {"from": bool(before and columns(before)), "to": bool(after and columns(after))},
        "statistics": {"from": _statistics(before, left), "to": _statistics(after, right)},
        "quality_metrics": {"from": _metrics(before, left), "to": _metrics(after, right)},
        "failed_assertions": {"from": _failed_assertions(before, left), "to": _failed_assertions(after, right)},
        "contract_break": contract,
    }


def since_previous(store: Store, version: Node) -> dict[str, Any] | None:
    """What changed in a dataset version against the newest version of its dataset written
    before it, as in the diff's `data_changes` (None when no version came before)."""
    previous = previous_of(store, version)
    if previous is None:
        return None
    io = io_facets(store, [previous.id, version.id])
    return compare(previous, version, io, contract_break(previous, version))
