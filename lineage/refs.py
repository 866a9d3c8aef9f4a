"""Human refs -> nodes: node ids, Marquez node ids, naming-spec URIs, namespace:name, names,
dataset@version, run labels, run UUIDs, sha prefixes (docs/refs.md lists them in order)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lineage import ids
from lineage.errors import Ambiguous, InvalidEvent, NotFound
from lineage.graph import ALIAS, ANNOTATION, COMMIT, DATASET, FIELD, HAS_FIELD, JOB, KINDS, RUN, VERSION, Node, field_key
from lineage.store.base import Store

MAX_REF = 1024
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/]*)(/.*)?$")
# What a placeholder version (an input read before any version of it was known) is called.
UNVERSIONED = "(unversioned)"
# A ref is split at each separator: bound the candidates one ref can ask for.
MAX_SPLITS = 32

# The bare-name form is tried tier by tier; the first tier with any match decides (a model
# version's model@version beats a version label that happens to read the same).
TIERS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("model_ref", VERSION), ("feature_view_ref", VERSION), ("alias_ref", ALIAS), ("alt_ref", VERSION)),
    (
        ("version", VERSION),
        ("endpoint", DATASET),
        ("model_name", DATASET),
        ("feature_view", DATASET),
        ("name", JOB),
        ("name", DATASET),
    ),
)
# Properties that name a dataset by a bare name, for the dataset part of `dataset@version`.
DATASET_NAMES = ("name", "endpoint", "model_name", "feature_view")


def check_ref(ref: str, field: str = "ref") -> str:
    ref = ref.strip()
    if not ref:
        raise InvalidEvent(field, "must not be empty")
    if len(ref) > MAX_REF:
        raise InvalidEvent(field, f"longer than {MAX_REF} characters")
    return ref


def check_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        raise InvalidEvent("kind", f"must be one of {', '.join(KINDS)}")
    return kind


# --- names of datasets and jobs ------------------------------------------------------------
def uri_parts(ref: str) -> list[tuple[str, str]]:
    """The (namespace, name) pairs an OpenLineage naming-spec URI may stand for: namespace is
    scheme://authority and name the path after it (spec/Naming.md), with or without the
    leading slash that some producers keep; `file:///p` is namespace `file`, name `/p`."""
    match = _URI.match(ref)
    if not match or not match.group(3) or len(match.group(3)) < 2:
        return []
    scheme, authority, path = match.groups()
    namespace = f"{scheme}://{authority}"
    out = [(namespace, path[1:]), (namespace, path)]
    if not authority:
        out.append((scheme, path))
    return out


def colon_parts(text: str) -> list[tuple[str, str]]:
    """`namespace:name` split at each colon (namespaces and names may hold colons themselves)."""
    cuts = [i for i, c in enumerate(text) if c == ":"][:MAX_SPLITS]
    return [(text[:i], text[i + 1 :]) for i in cuts if 0 < i < len(text) - 1]


def qualified(namespace: str, name: str) -> str:
    """A dataset's or job's name with its namespace: the naming-spec URI where the namespace is
    scheme://authority and the URI reads back to exactly this pair, else `namespace:name`."""
    if "://" in namespace:
        uri = namespace + name if name.startswith("/") else f"{namespace}/{name}"
        if (namespace, name) in uri_parts(uri):
            return uri
    return f"{namespace}:{name}"


def _dataset_ids(text: str, marquez: bool = True) -> list[str]:
    """Ids of the datasets `text` names by a structured form: a Marquez node id, a URI, or
    namespace:name (whether they exist is the store's to say)."""
    pairs = uri_parts(text) + colon_parts(text)
    if marquez and text.startswith("dataset:"):
        pairs += colon_parts(text.removeprefix("dataset:"))
    return [ids.dataset_id(ns, name) for ns, name in pairs]


def _job_ids(text: str) -> list[str]:
    """Ids of the jobs `text` names by a structured form: a Marquez node id, namespace:name, or
    the naming-spec URI a job in a scheme://authority namespace is labelled by."""
    pairs = uri_parts(text) + colon_parts(text)
    if text.startswith("job:"):
        pairs += colon_parts(text.removeprefix("job:"))
    return [ids.job_id(ns, name) for ns, name in pairs]


# Each `@` of a ref costs a lookup of the text before it: a few are plenty for real names.
MAX_AT_SPLITS = 4


def _at_splits(ref: str) -> list[tuple[str, str]]:
    """`dataset@version` split at each `@` (a version label or a dataset name may hold one)."""
    cuts = [i for i, c in enumerate(ref) if c == "@"][:MAX_AT_SPLITS]
    return [(ref[:i], ref[i + 1 :]) for i in cuts if i > 0]


# A run label, `job @ 2026-09-02T08:30:12Z`, with the suffix runs of one second get (` ~5045`).
_RUN_LABEL = re.compile(r"^(.+) @ (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)(?: ~([0-9a-fA-F]{1,32}))?$")


def _runs_of_named_job(store: Store, ref: str) -> list[Node]:
    """A run label whose job is named with its namespace, as answers print a job
    (`ml-pipelines:train-churn @ 2026-03-02T09:00:00Z`, `job:ns:name @ ...`, the URI form), with
    or without its suffix: the runs of that job alone which the label without the namespace
    names. Stored labels hold the job's name only, so the job is found by its computed ids, then
    its runs of that second by the indexed `run_key`."""
    match = _RUN_LABEL.match(ref)
    if not match:
        return []
    named, second, tail = match.groups()
    out = []
    for job in store.nodes(list(dict.fromkeys(_job_ids(named)))):
        if job.kind != JOB:
            continue
        for run in store.find("run_key", f"{job.props.get('name')} @ {second}", kind=RUN):
            if run.props.get("job_namespace") != job.props.get("namespace"):
                continue
            if tail is None or str(run.props.get("run_id", "")).replace("-", "").endswith(tail.lower()):
                out.append(run)
    return out


def _version_labels(version: str) -> list[str]:
    return ["", version] if version == UNVERSIONED else [version]


# --- labels ----------------------------------------------------------------------------------
def run_label(props: dict[str, Any]) -> str | None:
    """`job @ 2026-09-02T08:30:12Z`: the run's start to the second (its first eventTime when no
    START came), with the suffix the projection gave it when another run of that name shares the
    second; None for a run known only as a parent (its UUID names it)."""
    if props.get("run_label"):
        return str(props["run_label"])
    return run_key(props)


def run_key(props: dict[str, Any]) -> str | None:
    """The run label before any suffix (what runs that collide share)."""
    when = props.get("started_at") or props.get("first_event_time")
    if not when or not props.get("job_name"):
        return None
    return f"{props['job_name']} @ {str(when)[:19]}Z"


def dataset_label(props: dict[str, Any]) -> str:
    """What a dataset is called: the name our ml_* facets give it, else namespace and name."""
    named = props.get("endpoint") or props.get("model_name") or props.get("feature_view")
    if named:
        return str(named)
    if props.get("twin"):  # a job shares its namespace and name
        return f"dataset:{props.get('namespace')}:{props.get('name')}"
    return qualified(str(props.get("namespace")), str(props.get("name")))


def _field_version(node: Node) -> Node:
    """The version a field belongs to, as far as its label needs (what the field keeps of it)."""
    return Node(str(node.props.get("version_id")), VERSION, frozenset(), dict(node.props.get("of") or {}))


def display(node: Node) -> str:
    """A short human name for a node, which resolve_ref reads back to it."""
    p = node.props
    if node.kind == FIELD:  # `version[field]` (docs/refs.md): `#` would read as a Marquez version
        return f"{display(_field_version(node))}[{p.get('field')}]"
    if node.kind == VERSION:
        if p.get("model_ref") or p.get("feature_view_ref"):
            return str(p.get("model_ref") or p.get("feature_view_ref"))
        dataset = qualified(str(p.get("namespace")), str(p.get("name")))
        if p.get("endpoint"):
            dataset = str(p["endpoint"])
        return f"{dataset}@{UNVERSIONED if p.get('placeholder') else p.get('version')}"
    if node.kind == DATASET:
        return dataset_label(p)
    if node.kind == JOB:
        if p.get("twin"):  # a dataset shares its namespace and name
            return f"job:{p.get('namespace')}:{p.get('name')}"
        return qualified(str(p.get("namespace")), str(p.get("name")))
    if node.kind == RUN:
        return run_label(p) or str(p.get("run_id") or node.id)
    if node.kind == COMMIT:
        return f"{p.get('sha', '')[:12]}"
    if node.kind == ALIAS:
        return str(p.get("alias_ref"))
    return node.id  # an annotation is named by its id


def handle(node: Node) -> str:
    """A ref a person can type that resolves to this node: its label (a commit's whole sha)."""
    if node.kind == COMMIT and node.props.get("sha"):
        return str(node.props["sha"])
    return display(node)


def exact_ref(node: Node) -> str:
    """A ref that names this node and nothing else, whatever else the graph holds: the Marquez
    node id of a dataset or job (with `@version` for a version), a run's UUID, else the id."""
    p = node.props
    if node.kind == FIELD:
        return f"{exact_ref(_field_version(node))}[{p.get('field')}]"
    if node.kind in (DATASET, JOB) and p.get("namespace") is not None and p.get("name") is not None:
        return f"{'dataset' if node.kind == DATASET else 'job'}:{p['namespace']}:{p['name']}"
    if node.kind == VERSION and p.get("namespace") is not None and p.get("name") is not None:
        return f"dataset:{p['namespace']}:{p['name']}@{UNVERSIONED if p.get('placeholder') else p.get('version')}"
    if node.kind == RUN and p.get("run_id"):
        return str(p["run_id"])
    return node.id


def summary(node: Node) -> dict[str, Any]:
    out = {"id": node.id, "kind": node.kind, "labels": sorted(node.labels), "label": display(node), "ref": handle(node)}
    if node.kind in (DATASET, JOB, VERSION) and node.props.get("namespace") is not None:
        out["namespace"] = node.props["namespace"]
    elif node.kind == RUN and node.props.get("job_namespace") is not None:
        out["namespace"] = node.props["job_namespace"]
    return out


# --- resolution ------------------------------------------------------------------------------
def _by_kind(nodes: Iterable[Node], kind: str | None) -> list[Node]:
    return [n for n in nodes if kind is None or n.kind == kind]


def _bare(hits: dict[str, list[Node]], ref: str, kind: str | None, per_kind: int) -> list[Node]:
    """The bare-name form: a run UUID names its run; else the first tier that matches."""
    runs = [n for n in hits.get("run_id", []) if n.kind == RUN]
    if runs and kind in (None, RUN):
        return runs
    for tier in TIERS:
        matches: dict[str, Node] = {}
        for prop, node_kind in tier:
            if kind is None or kind == node_kind:
                matches.update((n.id, n) for n in [n for n in hits[prop] if n.kind == node_kind][:per_kind])
        if matches:
            return list(matches.values())
    return []


def field_splits(ref: str) -> list[tuple[str, str]]:
    """`version[field]` split at each `[` (a field name may hold one): (version ref, field)."""
    if not ref.endswith("]"):
        return []
    cuts = [i for i, c in enumerate(ref) if c == "["][:MAX_AT_SPLITS]
    return [(ref[:i], ref[i + 1 : -1]) for i in cuts if 0 < i < len(ref) - 2]


def _fields(store: Store, ref: str) -> list[Node]:
    """The fields a `version[field]` ref names (issue 36): each version its left part means."""
    wanted = [
        ids.field_id(version.id, field)
        for left, field in field_splits(ref)
        for version in candidates(store, left, VERSION)
    ]
    return store.nodes(list(dict.fromkeys(wanted))) if wanted else []


def find_fields(store: Store, text: str, limit: int) -> list[Node]:
    """Fields a search text names, at most `limit`: by a field ref `version[field]` (or a version
    ref and the start of a field name, `version[inc`), else by the start of their name, ASCII
    case folded. Read from indexes (a name's prefix, a version's fields), never a scan of every
    field of history."""
    if "[" in text:
        exact = _fields(store, text)
        if exact:
            return sorted(exact, key=lambda n: n.id)[:limit]
        started = _fields_started(store, text, limit)
        if started:
            return started
    return store.fields_named(field_key(text), limit)


def _fields_started(store: Store, text: str, limit: int) -> list[Node]:
    """`version[inc`: the fields of the one version the part before `[` names whose name starts
    with the rest; nothing when that part names no version, or several."""
    cuts = [i for i, c in enumerate(text) if c == "["][:MAX_AT_SPLITS]
    for i in cuts:
        versions = candidates(store, text[:i], VERSION) if i > 0 else []
        if len(versions) == 1:
            start = field_key(text[i + 1 :].removesuffix("]"))
            fields = store.nodes([e.dst for e in store.out_edges(versions[0].id, HAS_FIELD)])
            named = [f for f in fields if field_key(str(f.props.get("field"))).startswith(start)]
            return sorted(named, key=lambda f: (field_key(str(f.props.get("field"))), f.id))[:limit]
    return []


def candidates(store: Store, ref: str, kind: str | None = None) -> list[Node]:
    """Every node the ref could mean. A node id decides alone; otherwise every form that
    matches adds its nodes (docs/refs.md): more than one node is an ambiguous ref."""
    if kind in (None, FIELD) and ref.endswith("]"):
        fields = _fields(store, ref)
        if fields:
            return sorted(fields, key=lambda n: n.id)
    uuid = bool(_UUID.match(ref))
    props = ["id", "run_id", "run_key", "run_label", *dict.fromkeys(p for tier in TIERS for p, _ in tier)]
    per_kind = 20  # `name` serves two kinds: ask for enough of each
    hits = store.lookup(ref, props, per_kind * 2)
    by_id = _by_kind(hits["id"], kind)
    if by_id:
        return by_id
    if uuid and ref != ref.lower():
        hits["run_id"] = store.find("run_id", ref.lower(), kind=RUN)  # run ids are stored lower-case
    found: dict[str, Node] = {}
    # Marquez node ids, naming-spec URIs and namespace:name: ids computed from the text.
    structured = [*_dataset_ids(ref), *_job_ids(ref)]
    # dataset@version, the dataset named by any form but a version's own (a model@version is
    # found through its `model_ref` below): the ids of its versions, computed likewise.
    for dataset, version in _at_splits(ref):
        looked = store.lookup(dataset, ["id", *DATASET_NAMES], per_kind)
        datasets = [n.id for found_by in looked.values() for n in found_by if n.kind == DATASET]
        datasets += _dataset_ids(dataset)
        structured += [ids.version_id(d, label) for d in dict.fromkeys(datasets) for label in _version_labels(version)]
    for node in store.nodes(list(dict.fromkeys(structured))):
        found[node.id] = node
    # A run label, with or without the suffix that tells apart runs of one second, and with or
    # without its job's namespace.
    for node in [*hits["run_label"], *hits["run_key"], *_runs_of_named_job(store, ref)]:
        if node.kind == RUN:
            found[node.id] = node
    for node in _bare(hits, ref, kind, per_kind):
        found[node.id] = node
    out = sorted(_by_kind(found.values(), kind), key=lambda n: n.id)
    if out:
        return out
    if _SHA.match(ref) and kind in (None, COMMIT):
        return store.find("sha", ref.lower(), kind=COMMIT, prefix=True, limit=20)
    return []


def near(store: Store, text: str, kind: str | None, limit: int = 5) -> list[Node]:
    """Suggestions for a ref that matched nothing: nodes containing it, else containing
    ever shorter prefixes of it (a mistyped tail is the common slip)."""
    size = len(text)
    for _ in range(8):
        if size < 3:
            break
        found = store.suggest(text[:size], kind, limit)
        if found:
            return found
        size = size - 1 if size <= 16 else size // 2
    return []


def candidate(node: Node) -> dict[str, Any]:
    """A node as a 409 lists it: its summary, with a ref that names exactly it."""
    return summary(node) | {"ref": exact_ref(node)}


def resolve_ref(store: Store, ref: str, kind: str | None = None) -> Node:
    """Exactly one node, or NotFound with suggestions, or Ambiguous listing the candidates."""
    ref = check_ref(ref)
    found = candidates(store, ref, check_kind(kind))
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"nothing matches {ref!r}", suggestions=[summary(n) for n in near(store, ref, kind)])
    raise Ambiguous(f"{ref!r} matches {len(found)} nodes; use one of their refs", candidates=[candidate(n) for n in found])
