"""A small real model: logistic regression by full-batch gradient descent, in plain Python.

No numpy or scikit-learn, so the example installs nothing and every run gives the same
weights and metrics bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


@dataclass
class LogisticModel:
    weights: list[float]
    bias: float

    def predict(self, row: list[float]) -> float:
        return _sigmoid(self.bias + sum(w * x for w, x in zip(self.weights, row, strict=True)))


def fit(rows: list[list[float]], labels: list[int], *, lr: float, epochs: int, l2: float) -> LogisticModel:
    """Minimise log loss + l2/2 |w|^2 by gradient descent from zero weights (deterministic)."""
    n, width = len(rows), len(rows[0])
    weights, bias = [0.0] * width, 0.0
    for _ in range(epochs):
        grad_w, grad_b = [0.0] * width, 0.0
        for row, label in zip(rows, labels, strict=True):
            error = _sigmoid(bias + sum(w * x for w, x in zip(weights, row, strict=True))) - label
            grad_b += error
            for j, x in enumerate(row):
                grad_w[j] += error * x
        weights = [w - lr * (g / n + l2 * w) for w, g in zip(weights, grad_w, strict=True)]
        bias -= lr * grad_b / n
    return LogisticModel(weights, bias)


def auc(scores: list[float], labels: list[int]) -> float:
    """Area under the ROC curve: the chance a positive outranks a negative (ties count half)."""
    ranked = sorted(zip(scores, labels, strict=True))
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2  # 1-based ranks i+1..j share their mean
        rank_sum += mean_rank * sum(label for _, label in ranked[i:j])
        i = j
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return 0.5
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def evaluate(model: LogisticModel, rows: list[list[float]], labels: list[int]) -> dict[str, float]:
    scores = [model.predict(r) for r in rows]
    eps = 1e-12
    loss = -sum(y * math.log(max(p, eps)) + (1 - y) * math.log(max(1 - p, eps)) for p, y in zip(scores, labels, strict=True))
    accuracy = sum((p >= 0.5) == bool(y) for p, y in zip(scores, labels, strict=True)) / len(labels)
    return {"auc": round(auc(scores, labels), 4), "accuracy": round(accuracy, 4), "log_loss": round(loss / len(labels), 4)}


def holdout(customer_id: str, percent: int = 20) -> bool:
    """A stable split by id: a customer is in the holdout in every snapshot or in none."""
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:8], 16) % 100 < percent


def save(model: LogisticModel, folder: Path, meta: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.json"
    body = {"weights": [round(w, 12) for w in model.weights], "bias": round(model.bias, 12), **meta}
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
