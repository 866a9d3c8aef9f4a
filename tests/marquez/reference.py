"""The recorded Marquez 0.50.0 answers, and how ours is compared with them (volatile fields masked)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EVENTS = [json.loads(line) for line in (HERE / "events.ndjson").read_text().splitlines() if line.strip()]
REQUESTS: dict[str, dict[str, Any]] = json.loads((HERE / "requests.json").read_text())
VOLATILE: dict[str, Any] = json.loads((HERE / "volatile.json").read_text())


def response(name: str) -> dict[str, Any]:
    return json.loads((HERE / "responses" / f"{name}.json").read_text())  # type: ignore[no-any-return]


SETUP = [n for n, r in REQUESTS.items() if r["phase"] == "setup"]
READS = [n for n, r in REQUESTS.items() if r["phase"] == "read"]

# Every timestamp the events carry lies in this window; anything outside is Marquez's clock.
EVENT_WINDOW = (datetime(2024, 6, 1, tzinfo=timezone.utc), datetime(2024, 6, 10, tzinfo=timezone.utc))
MASKED_KEYS = set(VOLATILE["mask_keys_everywhere"])
# Lists whose order differed between recordings (NOTES.md, volatile fields 6): compared as multisets.
# `fields` too: Marquez lists a dataset's fields in its database's row order, ours follow the
# schema facet (docs/marquez.md).
UNORDERED_KEYS = {"fields", "columnLineage", "inputFields", "inputDatasetVersions", "outputDatasetVersions", "inputs", "tags"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
MASK, CLOCK = "<masked>", "<server clock>"
NOMINAL = {"nominalStartTime", "nominalEndTime"}
# Ids Marquez derives by its own scheme (NOTES.md, volatile fields 2): opaque, but consistent.
OPAQUE_IDS = {"version", "currentSchemaVersion"}


def _instant(text: str) -> datetime | None:
    if not _INSTANT.match(text):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def normalise(value: Any, *, recorded: bool, key: str = "") -> Any:
    """Volatile parts masked, instants in one form, unordered lists sorted. `recorded` marks
    Marquez's side, whose out-of-window instants are its clock and match any instant of ours."""
    if isinstance(value, dict):
        return {k: MASK if k in MASKED_KEYS else normalise(v, recorded=recorded, key=k) for k, v in value.items()}
    if isinstance(value, list):
        items = [normalise(v, recorded=recorded) for v in value]
        if key in UNORDERED_KEYS:
            items.sort(key=lambda x: json.dumps(_opaque(x), sort_keys=True))
        return items
    if isinstance(value, str):
        moment = _instant(value)
        if moment is not None:
            if recorded and not EVENT_WINDOW[0] <= moment < EVENT_WINDOW[1]:
                return CLOCK
            return moment.isoformat()
    return value


def _opaque(value: Any) -> Any:
    """Version UUIDs blanked, for sorting lists whose elements name versions."""
    if isinstance(value, dict):
        return {k: ("<v>" if k == "version" and isinstance(v, str) else _opaque(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_opaque(v) for v in value]
    return value


def differences(expected: Any, actual: Any, path: str = "$", ids: dict[str, str] | None = None) -> list[str]:
    """Where `actual` differs from `expected` (both normalised). Deterministic version ids are
    compared as opaque ids: each recorded id must map to one of ours, and back (NOTES.md 2)."""
    ids = {} if ids is None else ids
    out: list[str] = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in expected.keys() | actual.keys():
            if k not in actual:
                out.append(f"{path}.{k}: missing")
            elif k not in expected:
                out.append(f"{path}.{k}: not in Marquez's answer")
            elif k in NOMINAL and expected[k] is None and isinstance(actual[k], str):
                pass  # Marquez 0.50.0 drops the nominal times (its bug 4); we keep them
            elif k in OPAQUE_IDS and isinstance(expected[k], str) and _UUID.match(expected[k]):
                if ids.setdefault(expected[k], str(actual[k])) != actual[k] or list(ids.values()).count(actual[k]) > 1:
                    out.append(f"{path}.{k}: {actual[k]!r} does not correspond to {expected[k]!r}")
            else:
                out += differences(expected[k], actual[k], f"{path}.{k}", ids)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            names = Counter(json.dumps(_opaque(x), sort_keys=True)[:80] for x in expected)
            names.subtract(json.dumps(_opaque(x), sort_keys=True)[:80] for x in actual)
            return [f"{path}: {len(actual)} items, Marquez has {len(expected)}; {dict(+names)} / {dict(-names)}"]
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += differences(e, a, f"{path}[{i}]", ids)
        return out
    if expected == CLOCK and isinstance(actual, str) and _instant(actual) is not None:
        return []
    if expected != actual:
        out.append(f"{path}: {actual!r} != Marquez's {expected!r}")
    return out


def compare(name: str, status: int, body: Any) -> list[str]:
    """Every difference of our answer to the recorded one; [] when they match."""
    recorded = response(name)
    out = []
    if status != recorded["status"]:
        out.append(f"status {status} != Marquez's {recorded['status']}")
    expected = recorded.get("body")
    if recorded["status"] == 500 and isinstance(expected, dict):
        # The message carries a random log id: the code and its opening words are what count.
        expected = {"code": 500, "message": expected["message"].split(" It has been logged")[0]}
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            body = body | {"message": body["message"].split(" It has been logged")[0]}
    if name.startswith("events_lineage"):
        # Marquez re-serialises each event, adding every facet property it knows as null (its
        # bug 6); we answer the events as they came. Nulls are set aside on both sides.
        expected, body = _without_nulls(expected), _without_nulls(body)
    return out + differences(normalise(_mask_paths(expected), recorded=True), normalise(_mask_paths(body), recorded=False))


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _mask_paths(body: Any) -> Any:
    """volatile.json's mask_paths_everywhere: the job-version row ids of /lineage job nodes."""
    if not isinstance(body, dict) or not isinstance(body.get("graph"), list):
        return body
    graph = []
    for node in body["graph"]:
        data = node.get("data") if isinstance(node, dict) else None
        if isinstance(data, dict):
            data = dict(data)
            runs = [("latestRun", data.get("latestRun"))] + [(None, r) for r in data.get("latestRuns") or []]
            for key, r in runs:
                if isinstance(r, dict) and isinstance(r.get("jobVersion"), dict):
                    masked = r | {"jobVersion": r["jobVersion"] | {"version": MASK}}
                    if key:
                        data[key] = masked
                    else:
                        data["latestRuns"] = [masked if x is r else x for x in data["latestRuns"]]
            node = node | {"data": data}
        graph.append(node)
    return body | {"graph": graph}
