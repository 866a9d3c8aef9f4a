"""What an answer could not see, printed above its tables for people (issue 29)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape


def print_warnings(console: Console, answer: dict[str, Any]) -> None:
    """The answer's `warnings`, one line each, before anything else it shows; nothing when
    there are none."""
    warnings = answer.get("warnings") or []
    if not warnings:
        return
    console.print(f"[bold yellow]incomplete answer: {len(warnings)} warning{'s' * (len(warnings) != 1)}[/]")
    for w in warnings:
        console.print(f"[yellow]! {escape(w['kind'])}[/] {escape(w['node'])}: {escape(w['detail'])}")
