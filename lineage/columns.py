"""Column lineage in the projection (issue 36): the fields of a dataset version and the edges
from the input fields each one is made from, read from the standard `schema` and
`columnLineage` facets and from the columns our `ml_featureView` and `ml_modelVersion` facets name.

A version's fields and their incoming FEEDS edges are recomputed whole from two things that
are themselves order-independent: the version's merged facets, and the versions its writing
runs READ (which the projection already rebinds as versions appear). So the column graph is a
function of the set of events too. An input field whose version no writer is known to have read
hangs off the dataset's unversioned placeholder, flagged like any placeholder, and moves to
the real version once a read says which.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineage import ids
from lineage.events import DatasetRef
from lineage.graph import FEEDS, FIELD, HAS_FIELD, READ, VERSION, WROTE, Edge, Node

if TYPE_CHECKING:
    from lineage.projection import _Projector

# Facets that give a version fields or column lineage: a version carrying one is recomputed.
COLUMN_FACETS = ("schema", "columnLineage", "ml_featureView", "ml_modelVersion")
# What a version's field node copies of its version, so that its label reads back to it.
VERSION_LABEL_PROPS = ("namespace", "name", "version", "placeholder", "model_ref", "feature_view_ref", "endpoint")
# Transformations an edge gets when the facet that made it named none: a feature is computed
# from its columns, a model input takes its feature as it is (docs/column-lineage.md).
FEATURE_DEFAULT = {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": None, "masking": False}
MODEL_INPUT_DEFAULT = {"type": "DIRECT", "subtype": "IDENTITY", "description": None, "masking": False}
# Bounds on what one facet may add: a version with more fields is cut, and says so.
MAX_FIELDS = 2000
MAX_SOURCES = 200


@dataclass(frozen=True, slots=True)
class Source:
    """An input field that an output field is made from, and how."""

    namespace: str
    name: str
    field: str
    transformations: tuple[tuple[tuple[str, Any], ...], ...]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def transformation(raw: Any, dataset_wide: bool = False) -> dict[str, Any] | None:
    """One transformation as we keep it: type (DIRECT / INDIRECT), subtype, description,
    masking; `dataset_wide` marks those of the facet's dataset-wide `dataset` list."""
    if not isinstance(raw, dict):
        return None
    kind = _text(raw.get("type"))
    out = {
        "type": kind.upper() if kind else None,
        "subtype": _text(raw.get("subtype")),
        "description": _text(raw.get("description")),
        "masking": bool(raw.get("masking")),
    }
    if dataset_wide:
        out["dataset_wide"] = True
    return out


def _legacy(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The older per-field form (`transformationType`, `transformationDescription`): read as one
    DIRECT transformation whose subtype is the type it named (IDENTITY, MASKED, ...)."""
    kind, description = _text(entry.get("transformationType")), _text(entry.get("transformationDescription"))
    if kind is None and description is None:
        return []
    upper = (kind or "").upper()
    if upper in ("DIRECT", "INDIRECT"):
        return [{"type": upper, "subtype": None, "description": description, "masking": False}]
    return [{"type": "DIRECT", "subtype": kind, "description": description, "masking": upper == "MASKED"}]


def _frozen(transformations: list[dict[str, Any]]) -> tuple[tuple[tuple[str, Any], ...], ...]:
    return tuple(tuple(sorted(t.items())) for t in transformations)


def _input_fields(
    entries: Any, default: list[dict[str, Any]], dataset_wide: bool = False
) -> Iterator[Source]:
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        namespace, name, field = _text(entry.get("namespace")), _text(entry.get("name")), _text(entry.get("field"))
        if namespace is None or name is None or field is None:
            continue
        listed = entry.get("transformations")
        if isinstance(listed, list):
            found = [t for raw in listed if (t := transformation(raw, dataset_wide)) is not None]
        else:
            found = list(default)
        yield Source(namespace, name, field, _frozen(found))


def _flatten(fields: Any, prefix: str, out: dict[str, str | None]) -> None:
    for entry in fields if isinstance(fields, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            name = prefix + entry["name"]
            out[name] = _text(entry.get("type"))
            _flatten(entry.get("fields"), name + ".", out)  # nested struct fields, by dotted path


def schema_fields(facets: dict[str, Any]) -> dict[str, str | None]:
    """Field name -> type from the `schema` facet (nested fields by dotted path)."""
    out: dict[str, str | None] = {}
    schema = facets.get("schema")
    if isinstance(schema, dict):
        _flatten(schema.get("fields"), "", out)
    return out


def _named(entries: Any) -> Iterator[tuple[str, Any]]:
    """(name, entry) of a features or inputs list, whose items are names or objects with one."""
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str) and entry:
            yield entry, {}
        elif isinstance(entry, dict) and _text(entry.get("name")):
            yield entry["name"], entry


def column_sources(facets: dict[str, Any]) -> tuple[list[str], dict[str, list[Source]]]:
    """The fields a version's merged facets give it, in order, and per field the input fields it
    is made from: `columnLineage` (both forms, and its dataset-wide list, which feeds every
    field), the features of `ml_featureView`, the inputs of `ml_modelVersion`."""
    fields = list(schema_fields(facets))
    sources: dict[str, list[Source]] = {}
    lineage = facets.get("columnLineage")
    if isinstance(lineage, dict):
        per_field = lineage.get("fields")
        for name, entry in (per_field.items() if isinstance(per_field, dict) else []):
            if isinstance(name, str) and name and isinstance(entry, dict):
                fields.append(name)
                sources.setdefault(name, []).extend(_input_fields(entry.get("inputFields"), _legacy(entry)))
    for key, list_key, default in (
        ("ml_featureView", "features", FEATURE_DEFAULT),
        ("ml_modelVersion", "inputs", MODEL_INPUT_DEFAULT),
    ):
        facet = facets.get(key)
        for name, entry in _named(facet.get(list_key) if isinstance(facet, dict) else None):
            fields.append(name)
            found = list(_input_fields(entry.get("inputFields"), [default]))
            if found:
                sources.setdefault(name, []).extend(found)
    fields = list(dict.fromkeys(fields))[:MAX_FIELDS]
    if isinstance(lineage, dict):
        wide = list(_input_fields(lineage.get("dataset"), [], dataset_wide=True))
        for name in fields if wide else []:
            sources.setdefault(name, []).extend(wide)
    return fields, {name: found[:MAX_SOURCES] for name, found in sources.items() if name in fields}


def has_columns(node: Node) -> bool:
    facets = node.props.get("facets") or {}
    return any(key in facets for key in COLUMN_FACETS)


def is_direct(transformations: list[dict[str, Any]]) -> bool:
    """An edge counts as DIRECT when one of its transformations is, or none says (the older
    facet form, and producers that name no transformation, describe direct derivations)."""
    return not transformations or any(t.get("type") in (None, "DIRECT") for t in transformations)


class ColumnRules:
    """The projection's column rules, writing through its overlay (see module docstring)."""

    def __init__(self, projector: _Projector) -> None:
        self.p = projector
        self.g = projector.g

    def field(self, version: Node, name: str) -> str:
        """Upsert the field `name` of `version`: its type from the version's schema facet."""
        node_id = ids.field_id(version.id, name)
        props = {
            "field": name,
            "type": schema_fields(version.props.get("facets") or {}).get(name),
            "dataset": version.props.get("dataset"),
            "version_id": version.id,
            "of": {k: version.props.get(k) for k in VERSION_LABEL_PROPS},
            "placeholder": bool(version.props.get("placeholder")),
        }
        current = self.g.node(node_id)
        if current is None or current.props != props:
            self.g.put_node(Node(node_id, FIELD, frozenset(), props))
        self.g.put_edge(Edge(version.id, HAS_FIELD, node_id))
        return node_id

    def _read_versions(self, version: str) -> dict[str, list[str]]:
        """Dataset id -> the versions of it that the runs writing `version` read."""
        runs = [e.src for e in self.g.in_edges(version, WROTE)]
        reads = [e for run in runs for e in self.g.out_edges(run, READ)]
        self.g.preload([e.dst for e in reads])
        out: dict[str, list[str]] = {}
        for edge in reads:
            node = self.g.node(edge.dst)
            if node is not None and node.id != version:
                out.setdefault(str(node.props.get("dataset")), []).append(node.id)
        return out

    def _inputs(self, source: Source, reads: dict[str, list[str]]) -> list[Node]:
        dataset = ids.dataset_id(source.namespace, source.name)
        found = sorted({v for name in self.p.names_of(dataset) for v in reads.get(name, [])})
        if not found:
            ref = DatasetRef(namespace=source.namespace, name=source.name)
            dataset = self.p.dataset(ref, writer=False)
            found = [self.p.version(dataset, ref, None, None)]
        return [n for v in found if (n := self.g.node(v)) is not None]

    def refresh(self, version_id: str) -> None:
        """Recompute the fields of a version and every FEEDS edge into them."""
        version = self.g.node(version_id)
        if version is None or version.kind != VERSION or version.props.get("placeholder"):
            return
        names, sources = column_sources(version.props.get("facets") or {})
        # One read for every field of the version and what feeds it, not one per field.
        self.g.preload([ids.field_id(version_id, name) for name in names], in_types=(FEEDS,))
        fields = {name: self.field(version, name) for name in names}
        have = [e.dst for e in self.g.out_edges(version_id, HAS_FIELD) if e.dst not in fields.values()]
        self.g.preload(have, out_types=(FEEDS,), in_types=(FEEDS,))
        # Fields the facets no longer name stay while a later column is made from them.
        others = [n for f in have if (n := self.g.node(f)) is not None]
        for node in others:
            self.field(version, str(node.props.get("field")))
        wanted: dict[tuple[str, str], list[dict[str, Any]]] = {}
        reads = self._read_versions(version_id) if sources else {}
        inputs = {(source.namespace, source.name): self._inputs(source, reads) for _, found in sorted(sources.items()) for source in found}
        self.g.preload([ids.field_id(read.id, source.field) for found in sources.values() for source in found for read in inputs[(source.namespace, source.name)]])
        for name, found in sorted(sources.items()):
            for source in found:
                for read in inputs[(source.namespace, source.name)]:
                    src = self.field(read, source.field)
                    wanted.setdefault((src, fields[name]), []).extend(dict(t) for t in source.transformations)
        self.g.preload(list(fields.values()), in_types=(FEEDS,))
        for dst in sorted({*fields.values(), *(n.id for n in others)}):
            for edge in self.g.in_edges(dst, FEEDS):
                if (edge.src, edge.dst) not in wanted:
                    self.g.delete_edge(edge)
                    self.drop_orphan(edge.src)
        for (src, dst), transformations in sorted(wanted.items()):
            unique = sorted({_key(t): t for t in transformations}.values(), key=_key)
            self.g.put_edge(Edge(src, FEEDS, dst, "", {"transformations": unique, "direct": is_direct(unique)}))
        for node in others:
            self.drop_orphan(node.id)

    def drop_orphan(self, field: str) -> None:
        """A field exists while its version's facets name it or a column is made from it: one
        that is neither goes, and so does a placeholder left with no field and no reader."""
        node = self.g.node(field)
        if node is None or self.g.out_edges(field, FEEDS):
            return
        version_id = str(node.props.get("version_id"))
        version = self.g.node(version_id)
        if version is not None and not version.props.get("placeholder"):
            if node.props.get("field") in column_sources(version.props.get("facets") or {})[0]:
                return
        for edge in self.g.in_edges(field, HAS_FIELD):
            self.g.delete_edge(edge)
        made_from = self.g.in_edges(field, FEEDS)
        for edge in made_from:
            self.g.delete_edge(edge)
        self.g.delete_node(field)
        for edge in made_from:  # what it was made from may be orphaned too
            self.drop_orphan(edge.src)
        if version is not None and version.props.get("placeholder"):
            if not self.g.in_edges(version_id, READ) and not self.g.out_edges(version_id, HAS_FIELD):
                self.g.delete_node(version_id)


def _key(t: dict[str, Any]) -> tuple[str, ...]:
    return tuple(f"{k}={t[k]!r}" for k in sorted(t))
