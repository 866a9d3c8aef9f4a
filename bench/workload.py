"""A deterministic generator of realistic ML lineage at a chosen scale.

Each "pipeline" is a chain: a daily snapshot of a source table (declared versions, with
content hashes), a plain OpenLineage cleaning job (no version facets: inferred reads, derived
outputs, a parent DAG run), a feature build (feature view versions), a weekly training (model
versions with params and metrics), promotions that move an alias, and deployments to a few
endpoints (with canaries). Fan-in: the training job also reads a shared reference table;
fan-out: every endpoint of a pipeline reads the same model. Plain jobs unrelated to ML fill in.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

PRODUCER = "https://example.com/bench/workload"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": "https://example.com/facet", **fields}


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Workload:
    """`events()` yields about `target` events; the same seed gives the same events.

    `first_day` starts the timeline later: a workload sent after another with a later first
    day continues its history, as a pipeline's next days do (an earlier one is a backfill).
    """

    def __init__(self, target: int, seed: int = 7, endpoints_per_pipeline: int = 3, first_day: int = 0) -> None:
        self.target = target
        self.first_day = first_day
        self.rng = random.Random(seed)
        self.endpoints = endpoints_per_pipeline
        # One pipeline-day emits about 12 events (see `_day`); size pipelines so a run of
        # ~30 days reaches the target.
        self.pipelines = max(1, target // (12 * 30))

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _run(self, job: str, ns: str, etype: str, at: datetime, run: str, **extra: Any) -> dict[str, Any]:
        event = {
            "eventType": etype,
            "eventTime": _ts(at),
            "producer": PRODUCER,
            "schemaURL": SCHEMA,
            "run": {"runId": run, "facets": extra.pop("run_facets", {})},
            "job": {"namespace": ns, "name": job, "facets": extra.pop("job_facets", {})},
            "inputs": extra.pop("inputs", []),
            "outputs": extra.pop("outputs", []),
        }
        return event

    def _pair(self, job: str, ns: str, at: datetime, minutes: int, **io: Any) -> list[dict[str, Any]]:
        run = self._uuid()
        return [
            self._run(job, ns, "START", at, run, **dict(io)),
            self._run(job, ns, "COMPLETE", at + timedelta(minutes=minutes), run, **dict(io)),
        ]

    def _day(self, p: int, day: int) -> Iterator[dict[str, Any]]:
        at = START + timedelta(days=day, hours=p % 20)
        table = {"namespace": "s3://lake", "name": f"p{p}/customers"}
        version = f"p{p}-data-{day}"
        sha = f"{self.rng.getrandbits(256):064x}"
        yield from self._pair(
            f"p{p}.snapshot", "ingest", at, 5,
            outputs=[{**table, "facets": {"version": _facet(datasetVersion=version), "ml_artifact": _facet(sha256=sha, sizeBytes=1 << 20)}}],
            job_facets={"sourceCodeLocation": _facet(type="git", url=f"https://git.example.com/p{p}.git", version=f"{self.rng.getrandbits(160):040x}")},
        )
        dag = self._uuid()
        parent = {"parent": _facet(run={"runId": dag}, job={"namespace": "airflow", "name": f"p{p}.nightly"})}
        yield from self._pair(
            f"p{p}.clean", "airflow", at + timedelta(minutes=10), 10,
            inputs=[table], outputs=[{"namespace": "s3://lake", "name": f"p{p}/clean"}], run_facets=parent,
        )
        fv = {"namespace": "feast://store", "name": f"p{p}/features", "facets": {"ml_featureView": _facet(name=f"p{p}_features", version=f"p{p}-fv-{day}", features=["a", "b"], entities=["customer"])}}
        yield from self._pair(f"p{p}.features", "ml", at + timedelta(minutes=30), 5, inputs=[{"namespace": "s3://lake", "name": f"p{p}/clean"}], outputs=[fv])
        if day % 7 == 0:
            model = {"namespace": "models://registry", "name": f"p{p}/churn", "facets": {"ml_modelVersion": _facet(name=f"churn{p}", version=f"1.{day}.0", metrics={"auc": 0.8})}}
            ref = {"namespace": "s3://lake", "name": "shared/reference", "facets": {"version": _facet(datasetVersion="ref-1")}}
            training = {"ml_training": _facet(params={"lr": 0.1, "depth": 6}, metrics={"auc": 0.8}, seed=day)}
            yield from self._pair(f"p{p}.train", "ml", at + timedelta(minutes=40), 20, inputs=[fv, ref], outputs=[model], run_facets=training)
            promote = {"ml_alias": _facet(model=f"churn{p}", alias="Production", version=f"1.{day}.0"), "ml_approval": _facet(reviewer="bot", decision="approved", checks={"auc": True})}
            yield self._run(f"p{p}.promote", "ml", "COMPLETE", at + timedelta(hours=1), self._uuid(), inputs=[model], run_facets=promote)
            for e in range(self.endpoints):
                traffic = 10.0 if e == self.endpoints - 1 and day % 14 == 7 else None
                endpoint = {"namespace": "serving://prod", "name": f"p{p}-ep{e}", "facets": {"ml_endpoint": _facet(name=f"p{p}-ep{e}", environment="prod", trafficPercent=traffic)}}
                yield from self._pair(f"p{p}.deploy-{e}", "deploy", at + timedelta(hours=2, minutes=e), 1, inputs=[model], outputs=[endpoint])
        # An unrelated plain job.
        yield self._run(f"p{p}.report", "bi", "COMPLETE", at + timedelta(hours=3), self._uuid(), inputs=[{"namespace": "s3://lake", "name": f"p{p}/clean"}], outputs=[{"namespace": "s3://bi", "name": f"p{p}/report"}])

    def events(self) -> Iterator[dict[str, Any]]:
        sent, day = 0, self.first_day
        while sent < self.target:
            for p in range(self.pipelines):
                for event in self._day(p, day):
                    yield event
                    sent += 1
                    if sent >= self.target:
                        return
            day += 1

    def probes(self) -> dict[str, list[str]]:
        """Refs the query benchmarks ask about (they exist once the events are in)."""
        return {
            "impact": [f"p{p}-data-7" for p in range(min(3, self.pipelines))],
            "upstream": [f"churn{p}@1.7.0" for p in range(min(3, self.pipelines))],
            "diff": [f"churn{p}@1.7.0|churn{p}@1.14.0" for p in range(min(3, self.pipelines))],
            "endpoint": [f"p{p}-ep0" for p in range(min(3, self.pipelines))],
        }
