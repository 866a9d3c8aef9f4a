"""The release record questions of issue 37, asked after the incident: which endpoint serves in
another environment than training, what changed in the data, what each model's release record
holds, the rollback of Production, and whether an artifact is the one recorded."""

from __future__ import annotations

from typing import Any, Protocol

from emitters.capture import file_sha256
from examples.churn.story import Outcome

ENDPOINTS = ("churn-prod", "churn-eu", "churn-us", "churn-batch")
REASON = "data-v1.8.2 has a biased label mapping"


class Api(Protocol):
    def get(self, path: str, **params: Any) -> Any: ...
    def post(self, path: str, body: dict[str, Any]) -> Any: ...


def ask_record(api: Api, outcome: Outcome) -> dict[str, Any]:
    """Roll Production back (a dry run first), then ask the rest; the checklists come after the
    rollback, so `stage` says where Production points once the incident is handled."""
    rollback = "/api/v1/models/churn/aliases/Production/rollback"
    plan = api.post(rollback, {"dry_run": True})
    moved = api.post(rollback, {"dry_run": False, "reason": REASON, "by": "oncall"})
    sha = {version: file_sha256(path)[0] for version, path in outcome.models.items()}
    return {
        "endpoints": {name: api.get(f"/api/v1/endpoints/{name}") for name in ENDPOINTS},
        "rollback_plan": plan,
        "rollback": moved,
        "rollback_events": api.get("/api/v1/events", job="rollback churn@Production")["events"],
        "checklists": {v: api.get(f"/api/v1/models/churn/versions/{v}/checklist") for v in ("2.3.1", "2.2.0")},
        "verify": {
            # The file of 2.2.0 from the registry, and 2.3.1's file handed over as if it were 2.2.0.
            "match": api.post("/api/v1/artifacts/verify", {"ref": "churn@2.2.0", "sha256": sha["2.2.0"]}),
            "mismatch": api.post("/api/v1/artifacts/verify", {"ref": "churn@2.2.0", "sha256": sha["2.3.1"]}),
        },
    }


def drifts(endpoint: dict[str, Any]) -> list[str]:
    """The environment drift warnings of an endpoint answer."""
    return [w["detail"] for w in endpoint.get("warnings") or [] if w["kind"] == "environment_drift"]


def report_record(answers: dict[str, Any], diff: dict[str, Any]) -> list[str]:
    """The answers as a person reads them, numbered after the four incident questions."""
    lines = ["", "5. Which endpoints serve in another environment than their model was trained in?"]
    for name, endpoint in answers["endpoints"].items():
        found = drifts(endpoint)
        lines.append(f"   {name:<12} {'DRIFT: ' + found[0].split(': ', 1)[-1] if found else 'as trained'}")
    lines += ["", "6. What changed in the data between 2.2.0 and 2.3.1?"]
    for change in diff.get("data_changes") or []:
        columns = change["columns"]
        shown = [f"+{c['name']}" for c in columns["added"]] + [f"-{c['name']}" for c in columns["removed"]]
        shown += [f"~{c['name']} {c['from']}->{c['to']}" for c in columns["retyped"]]
        rows = [(change["statistics"][side] or {}).get("rowCount") for side in ("from", "to")]
        counted = f"; rows {rows[0]} -> {rows[1]}" if any(r is not None for r in rows) else ""
        failed = [a["assertion"] for a in change["failed_assertions"]["to"]]
        lines.append(f"   {change['to'] or change['from']}: columns {' '.join(shown) or 'same'}{counted}; failed checks: {', '.join(failed) or 'none'}")
        if change.get("contract_break"):
            lines.append(f"   CONTRACT BREAK: {change['contract_break']}")
    lines += ["", "7. What does each release record hold (the metadata checklist)?"]
    for version, checklist in answers["checklists"].items():
        missing = [i["item"] for i in checklist["items"] if i["status"] == "missing"]
        lines.append(f"   churn@{version}: {checklist['present']}/{checklist['total']} items; missing: {', '.join(missing) or 'nothing'}")
    plan, moved = answers["rollback_plan"], answers["rollback"]
    good = plan["last_known_good"] or {}
    lines += [
        "",
        f"8. Roll back Production: it points to {plan['current_version']}; last known good {good.get('version', 'none')}"
        f" (owners {', '.join(plan['owners']) or 'none'})",
        f"   recorded: moved to {moved['moved_to']} by event {moved['event'][:16]}...; owners notified: "
        + ("no webhook set" if moved.get("notified") is None else str(moved["notified"].get("delivered"))),
    ]
    verify = answers["verify"]
    lines += ["", "9. Is the file at hand the recorded artifact of churn@2.2.0?"]
    for case in ("match", "mismatch"):
        lines.append(f"   {case:<8} -> {verify[case]['result']}: {verify[case]['reason']}")
    return lines
