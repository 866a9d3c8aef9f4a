"""Structured logs: one JSON object per line with the extra fields."""

from __future__ import annotations

import logging

import orjson

from lineage.cli.serve import redact
from lineage.logs import JsonFormatter


def test_a_log_line_is_json_with_its_fields() -> None:
    record = logging.makeLogRecord({"name": "lineage.http", "levelname": "INFO", "msg": "request %s", "args": ("x",)})
    record.route, record.status = "/api/v1/lineage", 201
    line = orjson.loads(JsonFormatter().format(record))
    assert (line["msg"], line["level"], line["route"], line["status"]) == ("request x", "info", "/api/v1/lineage", 201)


def test_store_urls_in_logs_carry_no_password() -> None:
    assert redact("neo4j://neo4j:secret@db:7687") == "neo4j://db:7687"
    assert redact("sqlite:///data/lineage.db") == "sqlite:///data/lineage.db"
