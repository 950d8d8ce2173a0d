"""Contract tests every EventStore implementation must pass (as eventsourcing's
recorder tests do). Run here for the in-memory backend and for SurrealDB on
mem:// and surrealkv://: the recorder's own rules on plain rows, and the event
log riff.app builds over it (sealing, leaves, reading back as events)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from riff.app.archive import Checkpoint
from riff.app.eventlog import EventLog, plan_leaves
from riff.events import (
    GENESIS_DIGEST,
    ChainHead,
    EventDraft,
    event_from_row,
    event_to_row,
    seal_events,
    validate_event_immutability,
)
from riff.jobs.records import JobRun
from riff.store import ConcurrencyError, EventStore, LogIndexTaken, StoreError, open_store
from riff.store.memory import InMemoryEventStore
from riff.store.protocol import HeadRow
from riff.tlog import fold_nodes, root_from_leaf_hashes
from riff.tlog.leaves import event_leaf_hash
from riff.views import SourceFingerprint, ViewRecord
from tests.store.helpers import M, chain_drafts, kv_settings, mem_recorder


def _open(kind: str, tmp_path: Path) -> EventStore:
    if kind == "memory":
        return InMemoryEventStore()
    return mem_recorder() if kind == "mem" else open_store(kv_settings(tmp_path))


@pytest.fixture(params=["memory", "mem", "surrealkv"])
def recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    with _open(request.param, tmp_path) as store:
        yield store


@pytest.fixture
def any_store(recorder: EventStore) -> EventLog:
    return EventLog(recorder)


def test_implements_protocol(recorder: EventStore) -> None:
    assert isinstance(recorder, EventStore)


# -- the recorder: plain rows --------------------------------------------------


def _sealed_rows(session_id: str, n: int, head: ChainHead | None = None) -> list[dict[str, Any]]:
    events = seal_events(head or ChainHead(session_id), chain_drafts(n))
    return [event_to_row(e) for e in events]


def test_recorder_stores_and_returns_plain_rows(recorder: EventStore) -> None:
    rows = _sealed_rows("s1", 3)
    log = EventLog(recorder)
    leaves = plan_leaves(recorder, [event_from_row(r) for r in rows])
    recorder.append("s1", rows, leaves)
    back = list(recorder.events("s1"))
    assert all(type(row) is dict for row in back)
    # A NONE field is simply absent; everything else comes back as it went in.
    assert back == [{k: v for k, v in row.items() if v is not None} for row in rows]
    assert recorder.event(rows[1]["event_id"]) == back[1]
    assert recorder.head("s1") == HeadRow("s1", 3, rows[-1]["event_digest"])
    assert recorder.head("nope") is None
    assert recorder.log_state().size == 3
    assert list(log.events("s1")) == [event_from_row(r) for r in rows]


def test_recorder_refuses_rows_that_do_not_continue_the_chain(recorder: EventStore) -> None:
    rows = _sealed_rows("s1", 2)
    recorder.append("s1", rows, plan_leaves(recorder, [event_from_row(r) for r in rows]))
    again = _sealed_rows("s1", 1)  # seq 1 once more: another writer's view of the chain
    with pytest.raises(ConcurrencyError, match="s1"):
        recorder.append("s1", again, plan_leaves(recorder, [event_from_row(r) for r in again]))
    assert recorder.count("s1") == 2 and recorder.log_state().size == 2


def test_recorder_refuses_leaves_at_taken_indexes(recorder: EventStore) -> None:
    a = _sealed_rows("a", 1)
    b = _sealed_rows("b", 1)
    stale = plan_leaves(recorder, [event_from_row(r) for r in b])  # planned before a's append
    recorder.append("a", a, plan_leaves(recorder, [event_from_row(r) for r in a]))
    with pytest.raises(LogIndexTaken):
        recorder.append("b", b, stale)
    assert recorder.sessions() == ["a"]


def test_the_log_root_covers_every_appended_event(any_store: EventLog) -> None:
    events = any_store.append("a", chain_drafts(3)) + any_store.append("b", chain_drafts(4))
    recorder = any_store.recorder
    assert recorder.log_state().size == 7
    expected = root_from_leaf_hashes([event_leaf_hash(e.digest_payload()) for e in events])
    # The subtree hashes stored at the ends of 0..3 and 4..5 and 6 fold to the root.
    nodes = recorder.log_nodes([(2, 0), (1, 2), (0, 6)])
    assert set(nodes) == {(2, 0), (1, 2), (0, 6)}
    assert fold_nodes([nodes[(2, 0)], nodes[(1, 2)], nodes[(0, 6)]]) == expected


# -- the event log over it -----------------------------------------------------


def test_empty_store(any_store: EventStore) -> None:
    assert any_store.sessions() == []
    assert any_store.heads() == {}
    assert any_store.head("nope") == ChainHead("nope", 0, GENESIS_DIGEST)
    assert list(any_store.events("nope")) == []
    assert any_store.get_view("nope") is None


def test_append_seals_a_gapless_chain(any_store: EventStore) -> None:
    first = any_store.append("s1", chain_drafts(3))
    second = any_store.append("s1", chain_drafts(2, offset=3))
    events = first + second
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_digest == GENESIS_DIGEST
    assert all(b.prev_digest == a.event_digest for a, b in itertools.pairwise(events))
    assert list(any_store.events("s1")) == events
    assert list(any_store.events("s1", from_seq=4)) == events[3:]
    assert validate_event_immutability(events).ok


def test_append_nothing_is_a_no_op(any_store: EventStore) -> None:
    assert any_store.append("s1", []) == []
    assert any_store.sessions() == []


def test_heads_and_sessions(any_store: EventStore) -> None:
    a = any_store.append("a", chain_drafts(2))
    b = any_store.append("b", chain_drafts(1))
    assert any_store.sessions() == ["a", "b"]
    assert any_store.heads() == {
        "a": ChainHead("a", 2, a[-1].event_digest),
        "b": ChainHead("b", 1, b[-1].event_digest),
    }
    assert any_store.head("a") == ChainHead("a", 2, a[-1].event_digest)


def test_expected_head_guards_the_append(any_store: EventStore) -> None:
    any_store.append("s1", chain_drafts(2))
    with pytest.raises(ConcurrencyError, match="s1"):
        any_store.append("s1", chain_drafts(1, offset=2), expected_head=1)
    head = any_store.head("s1")
    stale = ChainHead("s1", 2, "f" * 64)
    with pytest.raises(ConcurrencyError):
        any_store.append("s1", chain_drafts(1, offset=2), expected_head=stale)
    assert any_store.append("s1", chain_drafts(1, offset=2), expected_head=head)[0].seq == 3


def test_sessions_are_independent_chains(any_store: EventStore) -> None:
    any_store.append("a", chain_drafts(3))
    b = any_store.append("b", chain_drafts(2))
    assert [e.seq for e in b] == [1, 2]
    assert b[0].prev_digest == GENESIS_DIGEST


def test_reads_page_through_long_sessions(any_store: EventStore) -> None:
    events = any_store.append("s1", chain_drafts(25))
    any_store.recorder.page_size = 7  # type: ignore[attr-defined]
    assert list(any_store.events("s1")) == events
    assert list(any_store.events("s1", from_seq=7)) == events[6:]
    assert list(any_store.events("s1", from_seq=26)) == []


def test_view_round_trip(any_store: EventStore) -> None:
    view = ViewRecord(
        session_id="s1",
        base_parents={M[1]: M[0], M[0]: None},
        parents={M[1]: None, M[0]: None},
        timestamps={M[0]: "2026-01-01T00:00:00.000Z", M[1]: None},
        through_seq=0,
        head_digest=GENESIS_DIGEST,
        materialization_digest="a" * 64,
        updated_at="2026-01-01T00:00:00.000000Z",
        source=SourceFingerprint("/x.jsonl", 10, 20, "b" * 64),
    )
    any_store.put_view(view)
    assert any_store.get_view("s1") == view
    changed = view.evolve(through_seq=3, is_stale=True, drift_report={"k": [1]})
    any_store.put_view(changed)
    assert any_store.get_view("s1") == changed


def test_reads_what_verification_needs(any_store: EventStore) -> None:
    a = any_store.append("a", chain_drafts(3))
    any_store.append("b", chain_drafts(1))
    assert any_store.event_row_count() == 4
    assert any_store.event_counts() == {"a": 3, "b": 1}
    assert any_store.count() == 4 and any_store.count("a") == 3
    assert any_store.event_id_count(a[1].event_id) == 1
    assert any_store.event_id_count("0190aaaa-0000-7000-8000-000000000000") == 0
    assert any_store.misplaced_events("a") == []
    assert any_store.event(a[2].event_id) == a[2]
    assert list(any_store.all_events())[:3] == a
    assert any_store.events_for_message(a[0].message_id)[0] == a[0]
    assert any_store.sessions_by_operator("alice") == ["a", "b"]
    assert any_store.reverted_ids() == set()


def test_append_marks_the_view_stale(any_store: EventStore) -> None:
    view = _view("s1")
    any_store.put_view(view)
    assert any_store.put_view_if_current(view.evolve(through_seq=0))
    any_store.append("s1", chain_drafts(1))
    stored = any_store.get_view("s1")
    assert stored is not None and stored.is_stale
    assert not any_store.put_view_if_current(view.evolve(through_seq=0))
    [summary] = any_store.view_summaries()
    assert summary["session_id"] == "s1" and summary["is_stale"] is True
    assert summary["source_path"] == "/x.jsonl"
    assert any_store.view_summary("s1") == summary
    assert any_store.view_summary("s2") is None


def test_marking_a_view_sets_its_drift_flags_and_nothing_else(any_store: EventStore) -> None:
    view = _view("s1")
    any_store.put_view(view)
    report = {"view_parents_differ": [M[7]], "problems": ["a 'quoted' $value"]}
    any_store.mark_view(view.evolve(drift_detected=True, drift_report=report, updated_at=T[1]))
    marked = any_store.get_view("s1")
    assert marked == view.evolve(drift_detected=True, drift_report=report, updated_at=T[1])
    any_store.mark_view(view.evolve(updated_at=T[2]))
    assert any_store.get_view("s1") == view.evolve(updated_at=T[2])
    any_store.mark_view(_view("s2").evolve(drift_detected=True))  # no view: nothing
    assert any_store.get_view("s2") is None


def test_plain_records(any_store: EventStore) -> None:
    def run(job: str, started: str) -> dict[str, Any]:
        return JobRun(job, "manual", started, started, "ok", "fine").to_dict()

    any_store.add_rows("job_runs", [run("a", T[1])])
    any_store.add_rows("job_runs", [run("a", T[3]), run("b", T[2])])
    newest = any_store.rows("job_runs", where={"job": "a"}, newest_first_by="started_at", limit=1)
    assert newest == [run("a", T[3])]
    assert len(any_store.rows("job_runs")) == 3
    assert any_store.rows("integrity_reports") == []
    events = any_store.append("s1", chain_drafts(2))
    head = events[-1].event_digest
    row = Checkpoint("s1", 1, 2, GENESIS_DIGEST, head, 2, "x.jsonl.gz", "d" * 64, T[1])
    key = ("session_id", "last_seq")
    any_store.add_rows("archive_checkpoints", [row.to_dict()], key=key)
    with pytest.raises(StoreError):  # a second row under the same key
        any_store.add_rows("archive_checkpoints", [row.to_dict()], key=key)
    assert any_store.rows("archive_checkpoints") == [row.to_dict()]


T = [f"2026-01-0{d}T00:00:00.000000Z" for d in range(1, 5)]


def _view(session_id: str) -> ViewRecord:
    return ViewRecord(
        session_id=session_id,
        base_parents={M[1]: M[0], M[0]: None},
        parents={M[1]: M[0], M[0]: None},
        timestamps={M[0]: None, M[1]: None},
        through_seq=0,
        head_digest=GENESIS_DIGEST,
        materialization_digest="a" * 64,
        updated_at="2026-01-01T00:00:00.000000Z",
        source=SourceFingerprint("/x.jsonl", 10, 20, "b" * 64),
    )


def _line_edit_drafts() -> list[EventDraft]:
    from riff.events import EventKind
    from riff.events.line_edit import LineEdit

    edit = LineEdit(2, (b"\x00\x00torn\n",), ())
    return [
        EventDraft(M[7], None, None, "alice", kind=EventKind.QUARANTINE_LINE, edit=edit.to_value())
    ]


def test_format_2_events_and_blobs_round_trip(any_store: EventStore) -> None:
    from riff.events.line_edit import blob_id

    v1 = any_store.append("s1", chain_drafts(1))
    v2 = any_store.append("s1", _line_edit_drafts())
    assert v2[0].format == "riff.repair-event/2" and v1[0].format == "riff.repair-event/1"
    assert list(any_store.events("s1")) == v1 + v2
    assert any_store.event(v2[0].event_id) == v2[0]
    assert validate_event_immutability(list(any_store.all_events())).ok
    data = b"\x00\x00torn\n"
    any_store.put_blobs({blob_id(data): data})
    any_store.put_blobs({blob_id(data): data})  # content-addressed: storing twice is a no-op
    assert any_store.get_blobs([blob_id(data), "0" * 64]) == {blob_id(data): data}


class _RacedOnce:
    """The recorder, with another writer's append landing just before our first one."""

    def __init__(self, recorder: EventStore) -> None:
        self._recorder = recorder
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)

    def append(self, session_id: str, rows: Any, leaves: Any) -> None:
        if not self.raced:
            self.raced = True
            EventLog(self._recorder).append("other", chain_drafts(2))
        self._recorder.append(session_id, rows, leaves)


def test_an_append_that_lost_the_log_indexes_plans_its_leaves_again(recorder: EventStore) -> None:
    raced = _RacedOnce(recorder)
    mine = EventLog(raced).append("s1", chain_drafts(3))  # type: ignore[arg-type]
    assert raced.raced and [e.seq for e in mine] == [1, 2, 3]
    assert recorder.log_state().size == 5
    log = EventLog(recorder)
    assert list(log.events("s1")) == mine and len(list(log.events("other"))) == 2
