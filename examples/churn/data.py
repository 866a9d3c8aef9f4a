"""Synthetic customer data (seeded, so every run writes the same bytes), snapshots and features.

A snapshot is a folder with `customers.csv` (raw CRM export, with a `status` column) and
`manifest.json`, which says how `status` maps to the churn label. data-v1.8.2 ships the biased
mapping the incident is about: `paused` customers are labelled as churned. It also dropped the
`region` column under a minor version bump, a breaking change of its data contract.
"""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path
from typing import Any

COLUMNS = [
    ("customer_id", "string"),
    ("region", "string"),
    ("plan", "string"),
    ("tenure_months", "int"),
    ("monthly_spend", "double"),
    ("income", "double"),  # yearly, in dollars
    ("support_tickets", "int"),
    ("logins_30d", "int"),
    ("status", "string"),
]
FEATURES = ["tenure_months", "monthly_spend", "support_tickets", "logins_30d", "is_basic", "income_k"]
ENTITIES = ["customer_id"]
GOOD_MAPPING = {"churned": 1, "active": 0, "paused": 0}
BIASED_MAPPING = {"churned": 1, "active": 0, "paused": 1}  # the bug: a pause is not a churn

# (version, rows, label mapping): v1.8.2 is a later export with more customers.
SNAPSHOTS = {
    "data-v1.7.1": (600, GOOD_MAPPING),
    "data-v1.8.2": (800, BIASED_MAPPING),
}
SEED = 42
# Columns a snapshot exports in the wrong unit: data-v1.8.2 sends income in cents (issue 36's
# incident: which features, models and endpoints did the mis-scaled column reach?).
MISSCALED = {"data-v1.8.2": {"income": 100}}
# Columns a snapshot no longer exports: data-v1.8.2 dropped `region` (no feature reads it, but
# the contract of `customers` promised it).
DROPPED = {"data-v1.8.2": ("region",)}


def columns(version: str) -> list[tuple[str, str]]:
    """The (name, type) columns snapshot `version` exports."""
    return [(n, t) for n, t in COLUMNS if n not in DROPPED.get(version, ())]


def customers(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """`count` customers; the first n of a larger draw are the same customers (same seed)."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        plan = "basic" if rng.random() < 0.55 else "pro"
        tenure = rng.randint(1, 72)
        logins = max(0, round(rng.gauss(16, 8)))
        tickets = min(8, int(rng.expovariate(0.9)))
        spend = round((29.0 if plan == "basic" else 79.0) + rng.gauss(0, 6), 2)
        region = rng.choice(["eu", "us", "apac"])
        income = round(18_000 + 450 * spend + 90 * tenure, 2)  # derived, so no draw moves
        risk = 0.3 - 0.05 * tenure + 0.5 * tickets - 0.08 * logins + 0.7 * (plan == "basic")
        if rng.random() < 1 / (1 + math.exp(-risk)):
            status = "churned"
        elif logins < 8 and rng.random() < 0.7:
            status = "paused"  # inactive customers pause; most come back
        else:
            status = "active"
        rows.append(
            {
                "customer_id": f"c{index:05d}",
                "region": region,
                "plan": plan,
                "tenure_months": tenure,
                "monthly_spend": spend,
                "income": income,
                "support_tickets": tickets,
                "logins_30d": logins,
                "status": status,
            }
        )
    return rows


def write_snapshot(folder: Path, version: str) -> dict[str, Any]:
    """Write snapshot `version` into `folder`; returns its manifest."""
    count, mapping = SNAPSHOTS[version]
    folder.mkdir(parents=True, exist_ok=True)
    rows = customers(count)
    for column, factor in MISSCALED.get(version, {}).items():
        rows = [r | {column: round(r[column] * factor, 2)} for r in rows]
    exported = columns(version)
    with (folder / "customers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[c for c, _ in exported], extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    manifest = {
        "dataset": "customers",
        "version": version,
        "rows": len(rows),
        "columns": [{"name": n, "type": t} for n, t in exported],
        "label": {"column": "status", "mapping": mapping},
        "source": f"synthetic CRM export (seed {SEED})",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def build_features(snapshot: Path, folder: Path) -> int:
    """Standardised features and the label (by the snapshot's own mapping); returns the rows."""
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    mapping = manifest["label"]["mapping"]
    with (snapshot / "customers.csv").open(encoding="utf-8") as handle:
        raw = list(csv.DictReader(handle))
    values = {
        "tenure_months": [float(r["tenure_months"]) for r in raw],
        "monthly_spend": [float(r["monthly_spend"]) for r in raw],
        "support_tickets": [float(r["support_tickets"]) for r in raw],
        "logins_30d": [float(r["logins_30d"]) for r in raw],
        "is_basic": [1.0 if r["plan"] == "basic" else 0.0 for r in raw],
        "income_k": [float(r["income"]) / 1000 for r in raw],
    }
    scaled = {}
    for name, column in values.items():
        mean = sum(column) / len(column)
        std = math.sqrt(sum((v - mean) ** 2 for v in column) / len(column)) or 1.0
        scaled[name] = [(v - mean) / std for v in column]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "features.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["customer_id", *FEATURES, "label"])
        for i, row in enumerate(raw):
            writer.writerow([row["customer_id"], *(f"{scaled[f][i]:.6f}" for f in FEATURES), mapping[row["status"]]])
    return len(raw)


def read_features(folder: Path) -> tuple[list[str], list[list[float]], list[int]]:
    """(customer ids, feature rows, labels) of a feature view version."""
    with (folder / "features.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return (
        [r["customer_id"] for r in rows],
        [[float(r[f]) for f in FEATURES] for r in rows],
        [int(r["label"]) for r in rows],
    )
