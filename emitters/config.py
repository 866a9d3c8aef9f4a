"""The SDK's own settings (`LINEAGE_EMIT_*`); where events go is OpenLineage configuration."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_NAMESPACE = "ml-pipelines"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _flag(environ: Mapping[str, str], key: str, default: bool) -> bool:
    raw = environ.get(key)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{key}={raw!r}: use true or false")


def _number(environ: Mapping[str, str], key: str, default: float) -> float:
    raw = environ.get(key)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key}={raw!r}: not a number") from None
    if value < 0:
        raise ValueError(f"{key}={raw!r}: must not be negative")
    return value


@dataclass(frozen=True, slots=True)
class EmitterSettings:
    """How the SDK behaves; arguments given in code win over these.

    strict: an event that cannot be delivered raises `EmitError` instead of a warning.
    schema_base_url: base of the `_schemaURL` of our ml_* facets; by default the URL of the HTTP
        transport, else http://127.0.0.1:5000.
    namespace: job namespace of the steps (`OPENLINEAGE_NAMESPACE`, as other OpenLineage
        integrations read it).
    offline_seconds: after a failed delivery, how long events are kept in memory without
        trying the service again (so a pipeline is not slowed down by an outage at every step).
    max_backlog: how many undelivered events are kept; older ones are dropped beyond that.
    lockfile: the dependency lockfile whose sha256 training and deploy steps record
        (`LINEAGE_EMIT_LOCKFILE`); by default the first of `capture.LOCKFILES` found in the
        source folder.
    image_digest: the container image digest those steps record (`LINEAGE_EMIT_IMAGE_DIGEST`,
        set by the deployment, e.g. from the image reference `name@sha256:...`).
    packages: packages whose installed versions are recorded besides `capture.PACKAGES`
        (`LINEAGE_EMIT_PACKAGES`, comma-separated).
    """

    strict: bool = False
    schema_base_url: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    offline_seconds: float = 30.0
    max_backlog: int = 1000
    lockfile: str | None = None
    image_digest: str | None = None
    packages: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmitterSettings:
        env = os.environ if environ is None else environ
        return cls(
            strict=_flag(env, "LINEAGE_EMIT_STRICT", False),
            schema_base_url=env.get("LINEAGE_EMIT_SCHEMA_BASE_URL") or None,
            namespace=env.get("OPENLINEAGE_NAMESPACE") or DEFAULT_NAMESPACE,
            offline_seconds=_number(env, "LINEAGE_EMIT_OFFLINE_SECONDS", 30.0),
            max_backlog=int(_number(env, "LINEAGE_EMIT_MAX_BACKLOG", 1000)),
            lockfile=env.get("LINEAGE_EMIT_LOCKFILE") or None,
            image_digest=env.get("LINEAGE_EMIT_IMAGE_DIGEST") or None,
            packages=tuple(p.strip() for p in env.get("LINEAGE_EMIT_PACKAGES", "").split(",") if p.strip()),
        )
