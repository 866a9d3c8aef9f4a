"""JSON responses serialised with orjson (fast, and exact for our dict payloads)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi.responses import Response


def json_response(
    body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None, media_type: str = "application/json"
) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, headers=headers, media_type=media_type)
