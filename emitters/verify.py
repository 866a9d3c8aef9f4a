"""Artifact checks for training and deploy steps (issue 37): a file's sha256 against the one
the lineage service recorded for its model version; a mismatch stops the step."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger("emitters")


class ArtifactMismatch(RuntimeError):
    """The file is not the artifact recorded for its ref: do not train on it or deploy it."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__(f"{answer['ref']}: sha256 {answer['sha256']} is not the recorded {answer['expected']} ({answer['reason']})")
        self.answer = answer


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_artifact(service_url: str, path: str | Path, ref: str, *, token: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """Ask the service whether `path` is the artifact recorded for `ref`. Returns its answer
    (`result` is match or unknown); raises ArtifactMismatch on a mismatch, and the HTTP error
    when the service cannot answer: an unchecked artifact is not a checked one."""
    token = token if token is not None else os.environ.get("LINEAGE_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(
        f"{service_url.rstrip('/')}/api/v1/artifacts/verify", json={"ref": ref, "sha256": file_sha256(path)}, headers=headers, timeout=timeout
    )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    if answer["result"] == "mismatch":
        raise ArtifactMismatch(answer)
    if answer["result"] == "unknown":
        log.warning("lineage: %s has no recorded sha256 to check %s against: %s", ref, path, answer.get("reason"))
    return answer
