"""Release actions from the command line (issue 37): checklist, rollback, verify-artifact."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from lineage import actions
from lineage.cli.query import JsonOpt, UrlOpt, _run, _table, ask
from lineage.ingest.parse import parse_event
from lineage.service import now
from lineage.settings import Settings
from lineage.store.base import Store


def split_ref(ref: str, what: str) -> tuple[str, str]:
    """`model@version` or `model@alias` -> its two parts."""
    name, sep, rest = ref.rpartition("@")
    if not sep or not name or not rest:
        raise typer.BadParameter(f"expected model@{what}, got {ref!r}")
    return name, rest


def render_checklist(console: Console, a: dict[str, Any]) -> None:
    rows = [[r["item"], r["status"], r["event"] or "", r["note"]] for r in a["items"]]
    console.print(_table(f"Checklist of {a['ref']}", ["item", "status", "event", "note"], rows))
    console.print(f"{a['present']} of {a['total']} items present")


def render_rollback(console: Console, a: dict[str, Any]) -> None:
    good = a["last_known_good"]
    console.print(f"{escape(a['alias_ref'])} points to {escape(a['current_version'])}")
    for ex in a["excluded"]:
        console.print(f"skipped {escape(ex['version'])}: {escape(ex['reason'])}")
    if good is None:
        console.print("no known good version before it")
        return
    console.print(f"last known good: [bold]{escape(good['ref'])}[/] ({escape(good['why'])})")
    trained = good["trained_on"]
    data = [i["label"] for i in trained["dataset_versions"] + trained["feature_view_versions"]]
    console.print(f"trained on: {escape(', '.join(data) or 'nothing recorded')}")
    console.print(f"owners: {escape(', '.join(a['owners']) or 'none recorded')}")
    if a["dry_run"]:
        console.print("dry run: nothing recorded (--apply records the move and notifies the owners; nothing is deployed)")
        return
    console.print(f"recorded: {escape(a['alias_ref'])} -> {escape(a['moved_to'])} (event {a['event']})")
    notified = a.get("notified")
    if notified is None:
        console.print("no owner webhook set (LINEAGE_OWNER_WEBHOOK_URL)")
    else:
        console.print(f"owners' webhook: {'delivered' if notified['delivered'] else 'NOT delivered'} ({escape(str(notified.get('status') or notified.get('error')))})")


def render_verify(console: Console, a: dict[str, Any]) -> None:
    console.print(f"{a['result']}: {escape(a['ref'])} {escape(a['reason'])} (file {a['sha256']}, recorded {a['expected'] or 'none'})")


def register(app: typer.Typer) -> None:
    @app.command()
    def checklist(ref: Annotated[str, typer.Argument(help="model@version")], url: UrlOpt = None, as_json: JsonOpt = False) -> None:
        """Which release metadata items MODEL@VERSION has, each with the event it came from."""
        name, version = split_ref(ref, "version")
        _run(as_json, lambda: ask(url, "GET", f"/api/v1/models/{name}/versions/{version}/checklist", {}, lambda s: actions.checklist(s, name, version)), render_checklist)

    @app.command()
    def rollback(
        ref: Annotated[str, typer.Argument(help="model@alias, e.g. churn@Production")],
        reason: Annotated[str, typer.Option(help="Why (required with --apply)")] = "",
        by: Annotated[str, typer.Option(help="Who asks for it (required with --apply)")] = "",
        apply: Annotated[bool, typer.Option("--apply", help="Record the alias move and notify the owners (default: a dry run)")] = False,
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Move an alias back to its last known good version: a dry run unless --apply. It
        records the move and notifies the owners; it does not deploy."""
        name, alias = split_ref(ref, "alias")

        def local(store: Store) -> dict[str, Any]:
            plan = actions.rollback_plan(store, name, alias)
            if not apply:
                return plan | {"dry_run": True}
            actions.check_rollback(plan, reason, by)
            event = parse_event(actions.rollback_body(plan, reason, by, now()))
            (outcome,) = store.ingest([event], now())
            notified = actions.notify_owners(Settings().owner_webhook_url, plan, outcome.id, reason, by)
            return plan | {"dry_run": False, "event": outcome.id, "seq": outcome.seq, "moved_to": plan["last_known_good"]["version"], "notified": notified}

        body = {"dry_run": not apply, "reason": reason, "by": by}
        _run(as_json, lambda: ask(url, "POST", f"/api/v1/models/{name}/aliases/{alias}/rollback", body, local), render_rollback)

    @app.command("verify-artifact")
    def verify_artifact(
        path: Annotated[str, typer.Argument(help="The artifact file")],
        ref: Annotated[str, typer.Option("--ref", help="model@version (or any ref) whose recorded sha256 to check against")],
        url: UrlOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Check PATH's sha256 against the one recorded for --ref: match (exit 0), mismatch
        (exit 2) or unknown (exit 0: nothing recorded to compare with)."""
        try:
            sha = actions.file_sha256(path)
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None
        answer: dict[str, Any] = {}

        def produce() -> Any:
            answer.update(ask(url, "POST", "/api/v1/artifacts/verify", {"ref": ref, "sha256": sha}, lambda s: actions.verify_artifact(s, ref, sha)))
            return answer

        _run(as_json, produce, render_verify)
        if answer.get("result") == "mismatch":
            raise typer.Exit(2)


__all__ = ["register"]
