"""Stable, URL-safe node ids and the normalised time format."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from functools import lru_cache


# Projection asks for the same few ids many times per event (a dataset's id, its versions'):
# hashing is most of what building an id costs.
@lru_cache(maxsize=1 << 16)
def _digest(*parts: str) -> str:
    # NUL cannot occur in JSON strings we accept as names, so it separates parts unambiguously.
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:24]


def job_id(namespace: str, name: str) -> str:
    return "job-" + _digest(namespace, name)


def run_id(run_uuid: str) -> str:
    return "run-" + run_uuid.lower()


def dataset_id(namespace: str, name: str) -> str:
    return "ds-" + _digest(namespace, name)


def version_id(dataset: str, version: str) -> str:
    return "dsv-" + _digest(dataset, version)


def field_id(version: str, field: str) -> str:
    """A column of one dataset version (issue 36)."""
    return "fld-" + _digest(version, field)


def commit_id(repo: str, sha: str) -> str:
    return "commit-" + _digest(repo, sha.lower())


def alias_id(model: str, alias: str) -> str:
    return "alias-" + _digest(model, alias)


def annotation_id(event_hash: str) -> str:
    return "ann-" + event_hash[:24]


def format_time(moment: datetime) -> str:
    """UTC, microseconds, fixed width: such strings sort in time order on both backends."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
