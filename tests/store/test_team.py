"""Team mode on the embedded engine: record users, argon2, operator stamped by identity."""

from __future__ import annotations

import contextlib

import pytest

from riff.app.eventlog import EventLog
from riff.events import ChainHead, EventDraft, seal_event, validate_event_immutability
from riff.store import AuthError, QueryFailed, create_user, list_users
from riff.store.rows import event_to_row
from riff.store.users import set_password, signed_in_name
from tests.store.helpers import M, chain_drafts


def _signin(store: EventLog, name: str, password: str) -> None:
    store.recorder.conn.invalidate()
    store.recorder.conn.use("riff", "riff")
    store.recorder.conn.signin_record("operator", name, password)
    store.recorder.identity = signed_in_name(store.recorder.conn)


def test_password_is_hashed_by_the_database(store: EventLog) -> None:
    create_user(store.recorder.conn, "alice", "pw-alice")
    stored = store.recorder.conn.one("SELECT VALUE pass FROM riff_user WHERE name = 'alice'")[0]
    assert stored.startswith("$argon2") and "pw-alice" not in stored
    assert [u["name"] for u in list_users(store.recorder.conn)] == ["alice"]


def test_duplicate_and_bad_names_are_refused(store: EventLog) -> None:
    create_user(store.recorder.conn, "alice", "pw")
    with pytest.raises(AuthError, match="already exists"):
        create_user(store.recorder.conn, "alice", "other")
    with pytest.raises(AuthError, match="not allowed"):
        create_user(store.recorder.conn, "bad name; DROP", "pw")


def test_signin_with_a_wrong_password_fails(store: EventLog) -> None:
    create_user(store.recorder.conn, "alice", "pw-alice")
    with pytest.raises(AuthError, match="alice"):
        _signin(store, "alice", "wrong")


def test_set_password(store: EventLog) -> None:
    create_user(store.recorder.conn, "alice", "old")
    set_password(store.recorder.conn, "alice", "new")
    with pytest.raises(AuthError):
        set_password(store.recorder.conn, "nobody", "x")
    _signin(store, "alice", "new")
    assert store.identity == "alice"


def test_a_record_users_append_is_stamped_with_the_identity(store: EventLog) -> None:
    create_user(store.recorder.conn, "carol", "pw-carol")
    _signin(store, "carol", "pw-carol")
    assert store.identity == "carol"
    events = store.append("s1", chain_drafts(3, operator="someone-else"))
    assert {e.operator for e in events} == {"carol"}
    assert list(store.events("s1")) == events
    assert validate_event_immutability(events).ok
    assert store.sessions_by_operator("carol") == ["s1"]


def test_record_user_cannot_write_under_another_name(store: EventLog) -> None:
    create_user(store.recorder.conn, "alice", "pw-alice")
    _signin(store, "alice", "pw-alice")
    forged = seal_event(ChainHead("s1"), EventDraft(M[1], M[0], None, "bob"))
    with pytest.raises(QueryFailed, match="operator"):
        store.recorder.conn.run(
            "INSERT RELATION INTO repairs_events [$row]", {"row": event_to_row(forged.to_dict())}
        )
    # The store path: sealing under the wrong name is refused with an AuthError.
    store.recorder.identity = None
    with pytest.raises(AuthError, match="operator"):
        store.append("s1", [EventDraft(M[1], M[0], None, "bob")])
    assert store.recorder.conn.one("SELECT VALUE id FROM repairs_events") == []


def test_record_user_reads_events_but_not_passwords(store: EventLog) -> None:
    store.append("s1", chain_drafts(2))
    create_user(store.recorder.conn, "alice", "pw-alice")
    create_user(store.recorder.conn, "bob", "pw-bob")
    _signin(store, "alice", "pw-alice")
    assert [e.seq for e in store.events("s1")] == [1, 2]
    users = store.recorder.conn.one("SELECT * FROM riff_user")
    assert [u["name"] for u in users] == ["alice"]
    assert "pass" not in users[0]
    with contextlib.suppress(QueryFailed):
        store.recorder.conn.run("CREATE riff_user SET name = 'eve', pass = 'x'")
    store.recorder.conn.invalidate()
    store.recorder.conn.run("DEFINE USER IF NOT EXISTS admin ON ROOT PASSWORD 'pw' ROLES OWNER")
    store.recorder.conn.signin_root("admin", "pw")
    store.recorder.conn.use("riff", "riff")
    assert sorted(store.recorder.conn.one("SELECT VALUE name FROM riff_user")) == ["alice", "bob"]
