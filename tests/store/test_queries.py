"""Graph queries, reverts and validated repairs through the store."""

from __future__ import annotations

import pytest

from riff.app.eventlog import EventLog
from riff.app.recording import append_repair, append_revert
from riff.events import (
    EventDraft,
    RevertError,
    calculate_session_digest,
    reverted_event_ids,
    validate_event_immutability,
)
from riff.store import NoViewError, RepairRefusedError
from riff.views import ViewRecord
from tests.store.helpers import M, chain_drafts

BASE = {M[0]: None, M[1]: M[0], M[2]: M[1], M[3]: M[2], M[4]: None}
TIMES = {
    m: f"2026-01-01T00:0{i}:00.000Z" for i, m in enumerate(M[:5])
}  # minutes apart: beyond clock skew


def _put_base_view(store: EventLog, sid: str = "s1") -> None:
    store.put_view(
        ViewRecord(
            session_id=sid,
            base_parents=BASE,
            parents=BASE,
            timestamps=TIMES,
            through_seq=0,
            head_digest="0" * 64,
            materialization_digest=calculate_session_digest(sid, 0, BASE),
            updated_at="2026-01-01T00:00:00.000000Z",
        )
    )


def test_event_by_id(store: EventLog) -> None:
    events = store.append("s1", chain_drafts(3))
    assert store.event(events[1].event_id) == events[1]
    assert store.event("01a2155d-9bf0-7692-b65e-bc7000000000") is None


def test_events_for_message_across_sessions(store: EventLog) -> None:
    a = store.append(
        "a", [EventDraft(M[1], M[0], None, "alice"), EventDraft(M[2], M[1], None, "alice")]
    )
    b = store.append("b", [EventDraft(M[1], None, M[4], "bob")])
    c = store.append("a", [EventDraft(M[1], None, M[3], "carol")])
    assert store.events_for_message(M[1]) == [a[0], c[0], b[0]]
    assert store.events_for_message(M[2]) == [a[1]]
    assert store.events_for_message(M[9]) == []


def test_sessions_by_operator(store: EventLog) -> None:
    store.append("a", chain_drafts(2, operator="alice"))
    store.append("b", chain_drafts(1, operator="bob"))
    store.append("c", chain_drafts(1, operator="alice"))
    store.append("b", chain_drafts(1, operator="alice", offset=1))
    assert store.sessions_by_operator("alice") == ["a", "b", "c"]
    assert store.sessions_by_operator("bob") == ["b"]
    assert store.sessions_by_operator("nobody") == []


def test_revert_and_reverted_ids(store: EventLog) -> None:
    events = store.append("s1", chain_drafts(3))
    store.append("s2", chain_drafts(1))
    r1 = append_revert(store, events[2].event_id, operator="bob", reason="wrong parent")
    assert r1.kind == "revert" and r1.reverts_event_id == events[2].event_id and r1.seq == 4
    assert store.reverted_ids() == {events[2].event_id}
    assert store.reverted_ids("s2") == set()
    r2 = append_revert(store, r1.event_id, operator="bob")  # re-applies events[2]
    log = list(store.events("s1"))
    assert store.reverted_ids("s1") == reverted_event_ids(log) == {r1.event_id}
    assert r2.seq == 5
    assert validate_event_immutability(store.all_events()).ok


def test_revert_refusals(store: EventLog) -> None:
    events = store.append("s1", chain_drafts(1))
    append_revert(store, events[0].event_id, operator="bob")
    with pytest.raises(RevertError, match="already reverted"):
        append_revert(store, events[0].event_id, operator="bob")
    with pytest.raises(RevertError, match="not in the store"):
        append_revert(store, "01a2155d-9bf0-7692-b65e-bc7000000000", operator="bob")


def test_append_repair_needs_a_view_or_parents(store: EventLog) -> None:
    with pytest.raises(NoViewError, match="s1"):
        append_repair(store, "s1", M[3], M[0], operator="alice")


def test_append_repair_validates_against_the_current_view(store: EventLog) -> None:
    _put_base_view(store)
    event = append_repair(store, "s1", M[3], M[1], operator="alice", reason="ok", score=0.9)
    assert (event.old_parent_uuid, event.new_parent_uuid, event.validation_passed) == (
        M[2],
        M[1],
        True,
    )
    # The view is behind now; the store folds the newer event in before validating.
    with pytest.raises(RepairRefusedError, match="cycle") as info:
        append_repair(store, "s1", M[1], M[3], operator="alice")
    assert info.value.problems
    with pytest.raises(RepairRefusedError, match="later"):
        append_repair(store, "s1", M[1], M[4], operator="alice")
    with pytest.raises(RepairRefusedError, match="not a message"):
        append_repair(store, "s1", M[1], M[40], operator="alice")
    assert store.head("s1").seq == 1


def test_forced_repair_is_recorded_as_failed_validation(store: EventLog) -> None:
    event = append_repair(
        store,
        "s1",
        M[1],
        M[4],
        operator="alice",
        reason="I know",
        parents=BASE,
        timestamps=TIMES,
        force=True,
    )
    assert event.validation_passed is False
    assert event.reason.startswith("I know [forced; validation failed:")
    assert store.event(event.event_id) == event


def test_append_marks_the_view_stale_in_the_same_transaction(store: EventLog) -> None:
    _put_base_view(store)
    store.append("s1", chain_drafts(1))
    view = store.get_view("s1")
    assert view is not None and view.is_stale and view.through_seq == 0
