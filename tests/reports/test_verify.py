"""`verify` over both stores: a sound log passes; each kind of tampering is caught and located."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Callable, TypeVar, cast

import orjson
import pytest

from lineage.chain import GENESIS, entry_hash
from lineage.ingest.parse import parse_event
from lineage.reports.audit import build_report
from lineage.reports.verify import Anchor, verify, verify_entries
from lineage.store.base import EventFilter, Store, StoredEvent
from lineage.store.sqlite import SqliteStore
from tests.conformance.test_projection_rules import NOW, ingest
from tests.reports.conftest import EVENTS, Forger, log, s, seq_of

T = TypeVar("T")


def test_an_untouched_log_verifies(graph: Store) -> None:
    entries = log(graph)
    answer = verify(graph)
    assert answer == {"ok": True, "entries": len(EVENTS) + 1, "head": entries[-1].hash, "first_bad": None}
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))


def test_an_empty_log_verifies_to_the_genesis_hash(store: Store) -> None:
    assert verify(store) == {"ok": True, "entries": 0, "head": GENESIS, "first_bad": None}


def test_new_events_move_the_head_and_keep_the_chain_sound(graph: Store) -> None:
    before = verify(graph)
    ingest(graph, s.event("later#1", "COMPLETE", s.ts(8, day=5), outputs=[s.dataset("orders", "o-1")]))
    after = verify(graph)
    assert after["ok"] and after["entries"] == before["entries"] + 1 and after["head"] != before["head"]
    # A report's head still checks out after the log has grown.
    assert verify(graph, Anchor(before["entries"], before["head"]))["anchor"]["ok"] is True


def test_a_modified_payload_is_named(graph: Store, forger: Forger) -> None:
    """Someone rewrites who approved the 2.3.1 promotion."""
    seq = seq_of(graph, "prom#2")
    entry = forger.entry(seq)
    body = orjson.loads(entry["payload"])
    assert body["run"]["facets"]["ml_approval"]["reviewer"] == "alice"
    body["run"]["facets"]["ml_approval"]["reviewer"] = "mallory"
    forger.update(seq, payload=orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
    answer = verify(graph)
    assert answer["ok"] is False
    assert answer["first_bad"]["seq"] == seq
    assert answer["first_bad"]["problem"] == "modified"
    assert answer["first_bad"]["id"] == entry["id"]
    # A report made now says so in its header, and its evidence shows the payload's new hash.
    report = build_report(graph, "churn@2.3.1")
    assert report["log"]["verified"] is False and report["log"]["first_bad"]["seq"] == seq
    shown = next(e for f in report["evidence"] for e in f["events"] if e["seq"] == seq)
    assert shown["id"] == entry["id"] and shown["sha256"] != entry["id"]


def rewrite_training(graph: Store, forger: Forger) -> int:
    """Change the 2.3.1 training run's learning rate and re-hash its event id and chain entry
    by the rules, as a forger who knows them would; the entry's seq."""
    seq = seq_of(graph, "train#231")
    body = orjson.loads(forger.entry(seq)["payload"])
    body["run"]["facets"]["ml_training"]["params"]["lr"] = 0.1
    payload = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    forger.update(seq, payload=payload, id=hashlib.sha256(payload).hexdigest())
    forger.rehash(seq)
    return seq


def test_a_rewritten_entry_with_recomputed_id_and_hash_is_named(graph: Store, forger: Forger) -> None:
    """A forger who knows the rules re-hashes the altered event and its chain entry; the next
    entry still links to the original, so the rewritten one is found."""
    seq = rewrite_training(graph, forger)
    answer = verify(graph)
    assert (answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (seq, "modified")


def test_a_changed_received_time_is_named(graph: Store, forger: Forger) -> None:
    seq = seq_of(graph, "dep-eu#1")
    forger.update(seq, received_at="2026-03-01T00:00:00.000000Z")
    answer = verify(graph)
    assert (answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (seq, "modified")


@pytest.mark.parametrize("renumber", [False, True], ids=["gap", "renumbered"])
def test_a_deleted_entry_is_named(graph: Store, forger: Forger, renumber: bool) -> None:
    """The rejected promotion disappears from the log, leaving a gap or with the rest renumbered."""
    seq = seq_of(graph, "prom#0")
    forger.delete(seq)
    if renumber:
        forger.shift(seq, -1)
    answer = verify(graph)
    assert answer["ok"] is False
    assert (answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (seq, "deleted")
    assert answer["entries"] == len(EVENTS)


@pytest.mark.parametrize("chained", [True, False], ids=["chained-forgery", "unchained-forgery"])
def test_an_inserted_entry_is_named(graph: Store, forger: Forger, chained: bool) -> None:
    """A fabricated approval slipped in after the 2.3.1 training run, with every field
    plausible; the entries after it renumbered to make room. A `chained` forger links it to its
    predecessor and computes its hash by the chain's rule; the other copies a neighbour's hashes."""
    after = seq_of(graph, "train#231")
    body = s.promote("forged#1", s.ts(9, 20, day=2), "churn", "Production", "2.3.1")
    event = parse_event(body)
    prev = forger.entry(after)
    forger.shift(after, 1)
    seq = after + 1
    row = {
        "seq": seq, "id": event.id, "received_at": prev["received_at"], "event_time": event.event_time,
        "kind": event.kind, "event_type": event.event_type, "run_uuid": event.run_uuid,
        "job_namespace": event.job_namespace, "job_name": event.job_name, "producer": event.producer,
        "payload": event.canonical, "prev_hash": prev["hash"] if chained else prev["prev_hash"],
        "hash": entry_hash(prev["hash"], seq, event.id, prev["received_at"]) if chained else prev["hash"],
    }
    forger.insert(row)
    assert [e.seq for e in log(graph)] == list(range(1, len(EVENTS) + 3))  # no gap betrays it
    answer = verify(graph)
    assert answer["ok"] is False
    assert (answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (seq, "inserted")


@pytest.mark.parametrize("distance", [1, 5], ids=["adjacent", "apart"])
def test_reordered_entries_are_named(graph: Store, forger: Forger, distance: int) -> None:
    """The rollback deploy is moved before the 2.3.1 deploy it replaced (seq numbers swapped)."""
    later = seq_of(graph, "dep-prod#3", "START")
    earlier = later - distance
    forger.swap(earlier, later)
    answer = verify(graph)
    assert answer["ok"] is False
    assert (answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (earlier, "reordered")


def test_a_cut_off_tail_is_caught_against_a_reports_head(graph: Store, forger: Forger) -> None:
    """Removing the newest entries leaves a sound but shorter chain; the head a report recorded
    shows they are gone."""
    report = build_report(graph, "churn@2.3.1")
    anchor = Anchor(report["log"]["entries"], report["log"]["head"])
    assert verify(graph, anchor)["ok"] is True
    forger.delete(anchor.entries)
    assert verify(graph)["ok"] is True  # no chain can tell a cut-off tail by itself
    answer = verify(graph, anchor)
    assert answer["ok"] is False and answer["anchor"]["ok"] is False
    assert (answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (anchor.entries, "deleted")


def test_a_rewritten_history_is_caught_against_a_reports_head(graph: Store, forger: Forger) -> None:
    """A forger who rewrites an entry and re-hashes every entry after it leaves a consistent
    chain, but not the head a report recorded."""
    report = build_report(graph, "churn-prod")
    anchor = Anchor(report["log"]["entries"], report["log"]["head"])
    seq = seq_of(graph, "dep-prod#3")
    forger.update(seq, received_at="2026-03-03T11:00:00.000000Z")
    for n in range(seq, anchor.entries + 1):
        if n > seq:
            forger.update(n, prev_hash=forger.entry(n - 1)["hash"])
        forger.rehash(n)
    assert verify(graph)["ok"] is True
    answer = verify(graph, anchor)
    assert answer["ok"] is False
    assert (answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (anchor.entries, "modified")


def test_entries_are_read_page_by_page(graph: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paging must not lose or repeat entries at page edges: the same answer with tiny pages."""
    whole = verify(graph)
    monkeypatch.setattr("lineage.reports.verify.PAGE", 4)
    assert verify(graph) == whole


def test_the_chain_follows_its_documented_rule(graph: Store) -> None:
    """Each entry's hash covers the previous hash, its seq, the event id and the received time,
    so anyone can recompute the chain from the log (lineage/chain.py)."""
    again = [parse_event(b) for b in EVENTS]
    assert [e.id for e in log(graph)][: len(again)] == [e.id for e in again]
    assert log(graph)[0].prev_hash == GENESIS
    assert log(graph)[0].hash == entry_hash(GENESIS, 1, again[0].id, NOW)


class _Log:
    """Just the log reads `verify` uses, over a list of entries: for sweeping every position."""

    def __init__(self, entries: list[StoredEvent]) -> None:
        self.entries = sorted(entries, key=lambda e: e.seq)

    def events(self, flt: EventFilter, after_seq: int, limit: int) -> list[StoredEvent]:
        return [e for e in self.entries if e.seq > after_seq][:limit]

    def entries_at(self, seqs: list[int]) -> list[StoredEvent]:
        return [e for e in self.entries if e.seq in set(seqs)]

    def last_entry(self) -> StoredEvent | None:
        return self.entries[-1] if self.entries else None

    def event_count(self) -> int:
        return len(self.entries)

    def snapshot(self, work: Callable[[], T]) -> T:
        return work()  # a list does not change under the reader


def _renumber(entries: list[StoredEvent], after: int, by: int) -> list[StoredEvent]:
    return [replace(e, seq=e.seq + by) if e.seq > after else e for e in entries]


def _forge(model: StoredEvent, prev_hash: str, seq: int) -> StoredEvent:
    event = parse_event(s.promote("forged#9", s.ts(1), "churn", "Production", "2.3.1"))
    return replace(model, seq=seq, id=event.id, payload=event.canonical, prev_hash=prev_hash, hash=entry_hash(prev_hash, seq, event.id, model.received_at))


def _tampered(entries: list[StoredEvent], kind: str, at: int) -> list[StoredEvent]:
    i = at - 1
    if kind == "modified":
        return [replace(e, payload=e.payload.replace(b"}", b" }", 1)) if e.seq == at else e for e in entries]
    if kind == "deleted":
        return _renumber(entries[:i] + entries[i + 1 :], at, -1)
    if kind == "inserted":
        return [*_renumber(entries, at - 1, 1), _forge(entries[i], entries[i - 1].hash if i else GENESIS, at)]
    assert kind == "reordered"
    return [replace(e, seq=at + 1) if e.seq == at else replace(e, seq=at) if e.seq == at + 1 else e for e in entries]


@pytest.fixture
def entries(tmp_path: Path) -> list[StoredEvent]:
    """The incident log's entries as a store wrote them, for sweeps over tampered copies."""
    store = SqliteStore(str(tmp_path / "lineage.db"))
    try:
        ingest(store, *EVENTS)
        return log(store)
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["modified", "deleted", "inserted", "reordered"])
def test_every_position_of_every_kind_is_named(entries: list[StoredEvent], kind: str) -> None:
    """The diagnosis is shared by both stores; swept here over every entry of the incident log
    (deleted and renumbered; inserted with a correct link and hash; swapped with its successor)."""
    last = len(entries) - (kind in ("deleted", "reordered"))  # the last one has no successor
    for at in range(1, last + 1):
        answer = verify(cast(Store, _Log(_tampered(entries, kind, at))))
        assert answer["first_bad"] is not None, (kind, at)
        assert (answer["first_bad"]["seq"], answer["first_bad"]["problem"]) == (at, kind)


@pytest.mark.parametrize("kind", ["modified", "deleted", "inserted", "reordered"])
def test_checking_the_entries_at_a_tampered_place_names_it_as_the_walk_does(entries: list[StoredEvent], kind: str) -> None:
    """An audit report checks only its evidence entries and the head. Wherever the log was
    tampered with, checking the entry now at that place finds it, and the whole walk then names
    it. An entry deleted or slipped in shifts every later seq, so the head shows it whatever is
    checked; an entry changed or moved in place is the business only of a check near it."""
    last = len(entries) - (kind in ("deleted", "reordered"))
    for at in range(1, last + 1):
        tampered = cast(Store, _Log(_tampered(entries, kind, at)))
        head = tampered.last_entry()
        assert head is not None
        answer, walked = verify_entries(tampered, [at], head)
        assert walked and answer == verify(tampered), (kind, at)
        for seq in (1, head.seq // 2, head.seq - 2):
            # A changed payload shows only at its entry; a swap also at the links either side.
            reach = 0 if kind == "modified" else 2
            near = at - min(reach, 1) <= seq <= at + reach or head.seq <= at + reach
            answer, walked = verify_entries(tampered, [seq], head)
            if kind in ("deleted", "inserted") or near:
                assert walked and answer == verify(tampered), (kind, at, seq)
            else:
                assert answer["ok"] and not walked, (kind, at, seq)


def test_the_head_is_always_checked(entries: list[StoredEvent]) -> None:
    sound, walked = verify_entries(cast(Store, _Log(entries)), [], entries[-1])
    assert (sound["ok"], sound["entries"], sound["head"], walked) == (True, len(entries), entries[-1].hash, False)
    tampered = cast(Store, _Log(_tampered(entries, "modified", len(entries))))
    answer, walked = verify_entries(tampered, [], tampered.last_entry())
    assert walked and answer["first_bad"]["seq"] == len(entries)


def test_a_report_names_tampered_evidence_and_walks_the_chain_when_asked(graph: Store, forger: Forger) -> None:
    """An entry outside a report's evidence is not the report's business unless the whole chain
    is asked for; a rewritten evidence entry (id and hash recomputed) is caught by its
    successor's link, and the walk names it."""
    ingest(graph, s.event("other#1", "COMPLETE", s.ts(8, day=6), job="unrelated-etl", outputs=[s.dataset("ledger", "l-1")]))
    ingest(graph, s.event("other#2", "COMPLETE", s.ts(9, day=6), job="unrelated-etl", outputs=[s.dataset("ledger", "l-2")]))
    outside = seq_of(graph, "other#1")
    forger.update(outside, received_at="2026-03-01T00:00:00.000000Z")
    report = build_report(graph, "churn@2.3.1")
    assert (report["log"]["verified"], report["log"]["checked"]) == (True, "evidence")
    assert outside not in {e["seq"] for f in report["evidence"] for e in f["events"]}
    whole = build_report(graph, "churn@2.3.1", whole_chain=True)
    assert (whole["log"]["verified"], whole["log"]["checked"], whole["log"]["first_bad"]["seq"]) == (False, "chain", outside)

    seq = rewrite_training(graph, forger)
    report = build_report(graph, "churn@2.3.1")
    assert (report["log"]["verified"], report["log"]["checked"]) == (False, "chain")
    assert (report["log"]["first_bad"]["seq"], report["log"]["first_bad"]["problem"]) == (seq, "modified")
