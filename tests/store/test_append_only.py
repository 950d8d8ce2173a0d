"""Append-only holds for every user: raw SurrealQL cannot change or remove an event.

Each attack runs directly through SurrealQL; afterwards a full SELECT of every
append-only table is byte-for-byte what it was before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from surrealdb import RecordID

from riff.app.eventlog import EventLog
from riff.events import RepairEvent
from riff.store import AppendOnlyError, QueryFailed, create_user
from riff.store.users import signed_in_name
from tests.store.helpers import M, chain_drafts, full_dump, mem_store

ATTACKS: list[tuple[str, str]] = [
    ("update one field", "UPDATE repairs_events SET reason = 'rewritten'"),
    ("update operator", "UPDATE repairs_events SET operator = 'mallory'"),
    ("update via record id", "UPDATE $first SET new_parent_uuid = NONE"),
    ("merge", "UPDATE $first MERGE { reason: 'merged' }"),
    ("content replace", "UPDATE $first CONTENT { reason: 'x' }"),
    ("unset a field", "UPDATE repairs_events UNSET similarity_score"),
    ("patch", "UPDATE $first PATCH [{ op: 'replace', path: '/reason', value: 'p' }]"),
    ("upsert", "UPSERT $first SET reason = 'upserted'"),
    ("upsert table", "UPSERT repairs_events SET validation_passed = false"),
    ("delete one", "DELETE $first"),
    ("delete all", "DELETE repairs_events"),
    ("delete where", "DELETE repairs_events WHERE seq > 1"),
    ("insert duplicate id", "INSERT INTO repairs_events $dup"),
    (
        "insert on duplicate key update",
        "INSERT INTO repairs_events $dup ON DUPLICATE KEY UPDATE reason = 'dup'",
    ),
    ("insert relation duplicate", "INSERT RELATION INTO repairs_events $dup"),
    (
        "insert relation on duplicate key update",
        "INSERT RELATION INTO repairs_events $dup ON DUPLICATE KEY UPDATE reason = 'dup'",
    ),
    ("relate onto an existing id", "RELATE $sess->$first->$msg CONTENT $dup_body"),
    ("create existing id", "CREATE $first CONTENT $dup_body"),
    ("update edge endpoints", "UPDATE $first SET out = $other_msg"),
    ("delete via graph", "DELETE $sess->repairs_events"),
    ("delete session record", "DELETE session"),
    ("update message records", "UPDATE message SET message_id = 'x'"),
    ("delete message records", "DELETE message"),
    ("move a head back", "UPDATE session_head SET seq = 1"),
    ("delete heads", "DELETE session_head"),
    ("transaction with update", "BEGIN; UPDATE repairs_events SET reason = 't'; COMMIT;"),
]


# The engine answers these with no error and no effect (a duplicate relation
# insert is skipped); the rows are still compared below.
SILENT_FOR_ROOT = {"insert relation duplicate"}


def _params(events: list[RepairEvent]) -> dict[str, object]:
    first = events[0]
    body = first.to_dict()
    body = {k: v for k, v in body.items() if v is not None}
    body["reason"] = "duplicate"
    dup = dict(body)
    dup["id"] = RecordID("repairs_events", [first.session_id, first.seq])
    dup["in"] = RecordID("session", first.session_id)
    dup["out"] = RecordID("message", [first.session_id, first.message_id])
    return {
        "first": RecordID("repairs_events", [first.session_id, first.seq]),
        "sess": RecordID("session", first.session_id),
        "msg": RecordID("message", [first.session_id, first.message_id]),
        "other_msg": RecordID("message", [first.session_id, M[63]]),
        "dup": [dup],
        "dup_body": body,
    }


@pytest.fixture
def seeded() -> Iterator[tuple[EventLog, list[RepairEvent]]]:
    with mem_store() as store:
        events = store.append("s1", chain_drafts(4))
        yield store, events


@pytest.mark.parametrize(("name", "sql"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_root_cannot_change_events(
    seeded: tuple[EventLog, list[RepairEvent]], name: str, sql: str
) -> None:
    store, events = seeded
    before = full_dump(store)
    if name in SILENT_FOR_ROOT:
        store.recorder.conn.run(sql, _params(events))
    else:
        with pytest.raises(QueryFailed):
            store.recorder.conn.run(sql, _params(events))
    assert full_dump(store) == before
    assert list(store.events("s1")) == events


def _as_record_user(store: EventLog, name: str = "alice") -> None:
    create_user(store.recorder.conn, name, "s3cret-pw")
    store.recorder.conn.run("DEFINE USER admin ON ROOT PASSWORD 'admin-pw' ROLES OWNER")
    store.recorder.conn.signin_record("operator", name, "s3cret-pw")
    store.recorder.identity = signed_in_name(store.recorder.conn)


def _back_to_root(store: EventLog) -> None:
    store.recorder.conn.invalidate()
    store.recorder.conn.signin_root("admin", "admin-pw")
    store.recorder.conn.use("riff", "riff")


@pytest.mark.parametrize(("name", "sql"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_record_user_cannot_change_events(
    seeded: tuple[EventLog, list[RepairEvent]], name: str, sql: str
) -> None:
    store, events = seeded
    before = full_dump(store)
    _as_record_user(store)
    # Refused outright, or (permissions) silently affecting nothing.
    with contextlib.suppress(QueryFailed):
        store.recorder.conn.run(sql, _params(events))
    _back_to_root(store)
    assert full_dump(store) == before


SCHEMA_ATTACKS = [
    "REMOVE TABLE repairs_events",
    "REMOVE EVENT repairs_no_mut ON repairs_events",
    "REMOVE FIELD reason ON repairs_events",
    "DEFINE FIELD OVERWRITE reason ON repairs_events TYPE string",
    "DEFINE TABLE OVERWRITE repairs_events SCHEMALESS PERMISSIONS FULL",
    "REMOVE INDEX repairs_event_id ON repairs_events",
    "DEFINE EVENT OVERWRITE repairs_no_mut ON repairs_events WHEN false THEN {}",
    "UPDATE riff_meta:schema SET version = 99",
    "DEFINE ACCESS OVERWRITE operator ON DATABASE TYPE RECORD SIGNIN (SELECT * FROM riff_user)",
    "REMOVE ACCESS operator ON DATABASE",
]


@pytest.mark.parametrize("sql", SCHEMA_ATTACKS)
def test_record_user_cannot_change_the_schema(
    seeded: tuple[EventLog, list[RepairEvent]], sql: str
) -> None:
    store, events = seeded
    schema_before = store.recorder.conn.one("INFO FOR TABLE repairs_events")
    db_before = store.recorder.conn.one("INFO FOR DB")
    meta_before = store.recorder.conn.one("SELECT * FROM riff_meta")
    _as_record_user(store)
    db_before_user = None
    with contextlib.suppress(QueryFailed):
        store.recorder.conn.run(sql, _params(events))
    _back_to_root(store)
    assert store.recorder.conn.one("INFO FOR TABLE repairs_events") == schema_before
    assert store.recorder.conn.one("SELECT * FROM riff_meta") == meta_before
    db_after = store.recorder.conn.one("INFO FOR DB")
    db_before["users"] = db_after["users"] = db_before_user  # the test's own admin user
    assert db_after == db_before
    assert list(store.events("s1")) == events


def test_record_user_schema_change_is_an_error(
    seeded: tuple[EventLog, list[RepairEvent]],
) -> None:
    store, _ = seeded
    _as_record_user(store)
    for sql in ("REMOVE TABLE repairs_events", "DEFINE FIELD OVERWRITE reason ON repairs_events"):
        with pytest.raises(QueryFailed, match=r"(?i)not enough permissions|not allowed"):
            store.recorder.conn.run(sql)


def test_store_update_and_delete_only_raise(
    seeded: tuple[EventLog, list[RepairEvent]],
) -> None:
    store, events = seeded
    recorder = store.recorder
    with pytest.raises(AppendOnlyError, match="revert"):
        recorder.update(events[0].event_id, reason="x")  # type: ignore[attr-defined]
    with pytest.raises(AppendOnlyError, match="revert"):
        recorder.delete(events[0].event_id)  # type: ignore[attr-defined]
    assert list(store.events("s1")) == events


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE blobs SET data = 'eA=='",
        "UPSERT $blob SET data = 'eA=='",
        "DELETE blobs",
        "DELETE $blob",
    ],
)
def test_blobs_cannot_be_changed_or_removed(sql: str) -> None:
    from riff.events.line_edit import blob_id

    data = b"\x00\x00 a torn line\n"
    with mem_store() as store:
        store.put_blobs({blob_id(data): data})
        store.put_blobs({blob_id(data): b"other bytes"})  # IGNORE: the first bytes stay
        with contextlib.suppress(QueryFailed):
            store.recorder.conn.run(sql, {"blob": RecordID("blobs", blob_id(data))})
        assert store.get_blobs([blob_id(data)]) == {blob_id(data): data}
