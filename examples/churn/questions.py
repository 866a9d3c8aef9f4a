"""The incident questions, asked of the service's HTTP API, and the answers printed for people."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import httpx

from examples.churn.record import ask_record, report_record
from examples.churn.story import Outcome


class Asker:
    """GET/POST against the API, with `LINEAGE_TOKEN` when the service wants one."""

    def __init__(self, url: str) -> None:
        token = os.environ.get("LINEAGE_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()


def ask(url: str, outcome: Outcome) -> dict[str, Any]:
    """Quarantine data-v1.8.2 as responders would, roll Production back, then ask the questions."""
    api = Asker(url)
    reason = "biased label mapping: paused counted as churned"
    api.post("/api/v1/annotations", {"ref": "data-v1.8.2", "tag": "quarantined", "author": "oncall", "reason": reason})
    during = outcome.times["2.3.1 to churn-prod"].replace(hour=15)
    record = ask_record(api, outcome)
    return record | {
        "impact": api.get("/api/v1/impact", ref="data-v1.8.2"),
        "diff": api.get("/api/v1/diff", **{"from": "churn@2.2.0", "to": "churn@2.3.1"}),
        "endpoint": api.get("/api/v1/endpoints/churn-prod", at=during.isoformat()),
        "versions": api.get("/api/v1/models/churn/versions", before="2.3.1"),
        # Issue 36: the column of the bad data, followed to features, models and endpoints.
        "columns": api.get("/api/v1/column-lineage", ref="data-v1.8.2", field="income"),
        "asked_at": during,
    }


def _t(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "now"


def report(answers: dict[str, Any], outcome: Outcome) -> str:
    """The answers as a person reads them."""
    lines = ["", "1. Which endpoints used data-v1.8.2, and which still serve it?"]
    for e in answers["impact"]["endpoints"]:
        served = sorted({d["model_version"] for d in e["affected_deployments"] if d.get("model_version")})
        state = "STILL SERVING it" if e["currently_serving"] else "no longer serving it"
        current = e["current_model_version"]
        now = ", ".join(current) if isinstance(current, list) else current
        lines.append(f"   {e['name']:<12} served {', '.join(served)}; {state} (now: {now or 'nothing'})")
    diff = answers["diff"]
    lines += ["", "2. What changed between churn 2.2.0 and 2.3.1?"]
    for d in diff["datasets"]:
        if d["change"] != "same":
            lines.append(f"   {d['kind']:<12} {d['name']:<16} {', '.join(d['from']) or '-'} -> {', '.join(d['to']) or '-'}")
    for p in diff["params"] + diff["metrics"]:
        lines.append(f"   {p['name']:<29} {p['from']} -> {p['to']}")
    lines.append(
        "   responders re-scored both on the good labels: auc "
        + ", ".join(f"{v} {a}" for v, a in sorted(outcome.reference_auc.items()))
    )
    endpoint = answers["endpoint"]
    at: datetime = answers["asked_at"]
    now, then = ", ".join(endpoint["current_model_version"]), ", ".join(endpoint["at"]["model_versions"])
    lines += ["", f"3. churn-prod: serving {now} now; at {at:%Y-%m-%d %H:%M} it served {then}"]
    for d in endpoint["history"]:
        flags = " ".join(flag for flag in ("rollback", "canary") if d.get(flag))
        models = ", ".join(d["model_versions"]) or "-"
        lines.append(f"   {_t(d.get('since'))} -> {_t(d.get('until')):<16} {models:<12} {d['status']} {flags}".rstrip())
    good = answers["versions"].get("last_known_good") or {}
    trained = good.get("training_data", {})
    data_versions = [v["label"] for v in trained.get("dataset_versions", [])]
    views = [v["label"] for v in trained.get("feature_view_versions", [])]
    lines += [
        "",
        f"4. Last known good before 2.3.1: {good.get('version', 'none')}, trained on {', '.join(data_versions + views) or 'unknown'}",
    ]
    for excluded in answers["versions"].get("excluded", []):
        lines.append(f"   skipped {excluded['version']}: {excluded['reason']}")
    columns = answers["columns"]
    lines += ["", "5. income was mis-scaled in data-v1.8.2: which features and models use it, and which endpoints serve them?"]
    lines.append(f"   features:       {', '.join(f['ref'] for f in columns['features']) or 'none'}")
    lines.append(f"   model versions: {', '.join(m['label'] for m in columns['model_versions']) or 'none'}")
    for e in columns["endpoints"]:
        state = "STILL SERVING one" if e["currently_serving"] else "no longer serving one"
        lines.append(f"   {e['name']:<12} {state} (via {', '.join(e['via_model_versions'])})")
    lines += report_record(answers, diff)
    return "\n".join(lines)
