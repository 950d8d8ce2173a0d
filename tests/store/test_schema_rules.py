"""The schema's ASSERTs reject rows the spec forbids, whoever writes them."""

from __future__ import annotations

from typing import Any

import pytest
from surrealdb import RecordID

from riff.app.eventlog import EventLog
from riff.events import GENESIS_DIGEST, ChainHead, EventDraft, seal_event
from riff.store import QueryFailed
from riff.store.rows import event_to_row
from tests.store.helpers import M


def _row(store: EventLog, **changes: Any) -> dict[str, Any]:
    event = seal_event(ChainHead("s1"), EventDraft(M[1], M[0], None, "alice"))
    row = event_to_row(event.to_dict())
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


BAD: list[tuple[str, dict[str, Any]]] = [
    ("format", {"format": "riff.repair-event/2"}),
    ("line-edit kind in format 1", {"kind": "quarantine_line"}),
    ("format 2 without an edit", {"format": "riff.repair-event/2", "kind": "quarantine_line"}),
    ("edit on a format 1 row", {"edit": '{"line": 1, "removed": [], "inserted": []}'}),
    ("event_id not v7", {"event_id": "0b6e3c2e-9a57-4c0e-a4f5-000000000001"}),
    ("event_id upper", {"event_id": "01A2155D-9BF0-7692-B65E-BC7000000000"}),
    ("kind", {"kind": "edit"}),
    ("seq zero", {"seq": 0, "id": RecordID("repairs_events", ["s1", 0])}),
    ("seq vs id", {"id": RecordID("repairs_events", ["s1", 9])}),
    ("timestamp", {"timestamp": "2026-11-26 00:16:59"}),
    ("timestamp date", {"timestamp": "2026-13-26T00:16:59.123456Z"}),
    ("message id", {"message_id": "not-a-uuid"}),
    ("old parent", {"old_parent_uuid": "xyz"}),
    ("operator empty", {"operator": "  "}),
    ("score high", {"similarity_score": 1.5}),
    ("score negative", {"similarity_score": -0.1}),
    ("validation type", {"validation_passed": "yes"}),
    ("repair with reverts id", {"reverts_event_id": "01a2155d-9bf0-7692-b65e-bc7000000000"}),
    ("revert without target", {"kind": "revert"}),
    ("prev digest seq 1", {"prev_digest": "a" * 64}),
    ("digest shape", {"event_digest": "XYZ"}),
    ("digest upper", {"event_digest": "A" * 64}),
    ("in points elsewhere", {"in": RecordID("session", "other")}),
    ("out points elsewhere", {"out": RecordID("message", ["s1", M[5]])}),
]


@pytest.mark.parametrize(("name", "changes"), BAD, ids=[b[0] for b in BAD])
def test_bad_rows_are_refused(store: EventLog, name: str, changes: dict[str, Any]) -> None:
    with pytest.raises(QueryFailed):
        store.recorder.conn.run(
            "INSERT RELATION INTO repairs_events [$row]", {"row": _row(store, **changes)}
        )
    assert store.recorder.conn.one("SELECT VALUE id FROM repairs_events") == []


def test_fields_outside_the_spec_are_not_stored(store: EventLog) -> None:
    store.recorder.conn.run(
        "INSERT RELATION INTO repairs_events [$row]", {"row": _row(store, is_reverted=False)}
    )
    assert store.recorder.conn.one("SELECT VALUE is_reverted FROM repairs_events") == [None]


def test_a_good_row_is_accepted(store: EventLog) -> None:
    store.recorder.conn.run("INSERT RELATION INTO repairs_events [$row]", {"row": _row(store)})
    assert len(store.recorder.conn.one("SELECT VALUE id FROM repairs_events")) == 1


def test_chain_link_is_enforced_by_the_database(store: EventLog) -> None:
    first = store.append("s1", [EventDraft(M[1], M[0], None, "alice")])[0]
    forged = seal_event(ChainHead("s1", 1, "b" * 64), EventDraft(M[2], M[1], None, "alice"))
    with pytest.raises(QueryFailed, match="prev_digest"):
        store.recorder.conn.run(
            "INSERT RELATION INTO repairs_events [$row]", {"row": event_to_row(forged.to_dict())}
        )
    gap = seal_event(ChainHead("s1", 5, first.event_digest), EventDraft(M[2], M[1], None, "x"))
    with pytest.raises(QueryFailed):
        store.recorder.conn.run(
            "INSERT RELATION INTO repairs_events [$row]", {"row": event_to_row(gap.to_dict())}
        )
    assert store.head("s1").seq == 1


def test_a_failing_row_aborts_the_whole_batch(store: EventLog) -> None:
    good = seal_event(ChainHead("s1"), EventDraft(M[1], M[0], None, "alice"))
    bad = event_to_row(
        seal_event(
            ChainHead("s1", 1, good.event_digest), EventDraft(M[2], M[1], None, "a")
        ).to_dict()
    )
    bad["similarity_score"] = 7
    with pytest.raises(QueryFailed):
        store.recorder.conn.run(
            "INSERT RELATION INTO repairs_events $rows",
            {"rows": [event_to_row(good.to_dict()), bad]},
        )
    assert store.recorder.conn.one("SELECT VALUE id FROM repairs_events") == []


def test_genesis_constant_matches_the_schema() -> None:
    from riff.store.migrations import migrations

    assert GENESIS_DIGEST in migrations()[0].sql
