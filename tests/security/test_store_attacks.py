"""High: who may create users, and events slipped in past the head (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from surrealdb import RecordID

from riff.app.eventlog import EventLog
from riff.app.integrity import verify_database
from riff.events import ChainHead, EventDraft
from riff.store import AuthError
from tests.security.helpers import event_head, sign_in_as_record_user, slip_in_event
from tests.store.helpers import M, chain_drafts


def test_a_record_level_sign_up_is_refused(store: EventLog) -> None:
    store.recorder.conn.invalidate()
    store.recorder.conn.use("riff", "riff")
    with pytest.raises(AuthError, match="sign-up"):
        store.recorder.conn.signup_record("operator", "mallory", "pw")
    store.recorder.conn.run("DEFINE USER IF NOT EXISTS admin ON ROOT PASSWORD 'pw' ROLES OWNER")
    store.recorder.conn.signin_root("admin", "pw")
    store.recorder.conn.use("riff", "riff")
    assert store.recorder.conn.one("SELECT VALUE name FROM riff_user") == []


def test_only_root_creates_users_and_a_name_cannot_be_claimed(store: EventLog) -> None:
    sign_in_as_record_user(store, "alice", "pw-alice")
    store.recorder.conn.run(
        "CREATE riff_user SET name = 'bob', pass = 'x'"
    )  # no permission: no row
    store.recorder.conn.invalidate()
    store.recorder.conn.use("riff", "riff")
    with pytest.raises(AuthError):
        store.recorder.conn.signin_record("operator", "bob", "x")


@pytest.mark.parametrize("who", ["root", "record user"])
def test_an_event_slipped_in_past_the_head_is_named(store: EventLog, who: str) -> None:
    [first] = store.append("s1", chain_drafts(1))
    if who == "record user":
        sign_in_as_record_user(store, "alice", "pw-alice")
    slipped = slip_in_event(store, "s1", EventDraft(M[5], M[4], M[0], "alice"), event_head(first))
    result = verify_database(store, check_views=False)
    assert not result.ok
    named = [b for b in result.breaks if b.event_id == slipped.event_id]
    assert named and named[0].seq == 2 and named[0].problem == "head_mismatch"
    assert result.events_checked == 2


@pytest.mark.parametrize("who", ["root", "record user"])
def test_an_event_slipped_into_a_new_session_is_seen(store: EventLog, who: str) -> None:
    store.append("s1", chain_drafts(1))
    if who == "record user":
        sign_in_as_record_user(store, "alice", "pw-alice")
    slipped = slip_in_event(store, "s2", EventDraft(M[5], M[4], M[0], "alice"), ChainHead("s2"))
    assert "s2" in store.sessions()
    assert [e.event_id for e in store.events("s2")] == [slipped.event_id]
    result = verify_database(store, check_views=False)
    assert [(b.session_id, b.seq, b.event_id) for b in result.breaks] == [
        ("s2", 1, slipped.event_id)
    ]
    assert result.events_checked == 2


def test_an_append_after_a_slipped_event_is_not_locked_out(store: EventLog) -> None:
    [first] = store.append("s1", chain_drafts(1))
    slipped = slip_in_event(store, "s1", EventDraft(M[5], M[4], M[0], "alice"), event_head(first))
    assert store.head("s1") == event_head(slipped)
    [third] = store.append("s1", [EventDraft(M[6], M[5], M[0], "alice")], expected_head=2)
    assert third.seq == 3 and third.prev_digest == slipped.event_digest


def test_a_duplicated_event_id_is_a_break_not_a_crash(store: EventLog) -> None:
    [first] = store.append("s1", chain_drafts(1))
    store.recorder.conn.run("REMOVE INDEX repairs_event_id ON repairs_events")
    from riff.events import seal_event
    from riff.store.rows import event_to_row

    twin = seal_event(
        ChainHead("s2"), EventDraft(M[5], M[4], M[0], "alice"), event_id=first.event_id
    )
    store.recorder.conn.run(
        "INSERT RELATION INTO repairs_events [$row] RETURN NONE",
        {"row": event_to_row(twin.to_dict())},
    )
    store.recorder.conn.run(
        "UPSERT $h SET session_id = 's2', seq = 1, digest = $d",
        {"h": RecordID("session_head", "s2"), "d": twin.event_digest},
    )
    result = verify_database(store, check_views=False)
    assert "duplicate_event_id" in {b.problem for b in result.breaks}


def test_log_and_export_show_an_event_slipped_into_a_new_session(tmp_path: Path) -> None:
    from riff.app.logs import LogFilter, export_log, log_events
    from riff.app.workspace import Workspace
    from riff.events.audit import verify_export
    from riff.settings import Settings

    settings = Settings(
        db_url=f"surrealkv://{tmp_path / 'store'}", data_dir=tmp_path, projects_dir=tmp_path
    )
    with Workspace(settings) as ws:
        ws.store.append("s1", chain_drafts(1))
        draft = EventDraft(M[5], M[4], M[0], "alice")
        slipped = slip_in_event(ws.store, "s2", draft, ChainHead("s2"))
        assert slipped.event_id in {e.event_id for e, _ in log_events(ws, LogFilter())}
        assert [e.event_id for e, _ in log_events(ws, LogFilter("s2"))] == [slipped.event_id]
        assert export_log(ws, tmp_path / "all.jsonl", session=None, fmt="jsonl") == 2
    assert verify_export(tmp_path / "all.jsonl").events_checked == 2
