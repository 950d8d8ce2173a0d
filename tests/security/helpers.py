"""Attacks on a real store (mem://): what a root client or a record user can send."""

from __future__ import annotations

from surrealdb import RecordID

from riff.app.eventlog import EventLog
from riff.events import ChainHead, EventDraft, RepairEvent, seal_event
from riff.store import create_user
from riff.store.rows import event_to_row
from riff.store.users import signed_in_name

ADMIN = ("admin", "admin-pw")


def sign_in_as_record_user(store: EventLog, name: str, password: str) -> None:
    """Switch the store's connection to a record user (created first, as root)."""
    create_user(store.recorder.conn, name, password)
    store.recorder.conn.invalidate()
    store.recorder.conn.use("riff", "riff")
    store.recorder.conn.signin_record("operator", name, password)
    store.recorder.identity = signed_in_name(store.recorder.conn)


def sign_in_as_root(store: EventLog) -> None:
    """Back to a root owner (the embedded engine starts unauthenticated, as root)."""
    store.recorder.conn.invalidate()
    store.recorder.conn.run(
        "DEFINE USER IF NOT EXISTS admin ON ROOT PASSWORD 'admin-pw' ROLES OWNER"
    )
    store.recorder.conn.signin_root(*ADMIN)
    store.recorder.conn.use("riff", "riff")
    store.recorder.identity = None


def slip_in_event(
    store: EventLog, session_id: str, draft: EventDraft, head: ChainHead
) -> RepairEvent:
    """A valid, sealed event inserted straight into the table: the head row is not moved."""
    event = seal_event(head, draft)
    store.recorder.conn.run(
        "INSERT RELATION INTO repairs_events [$row] RETURN NONE",
        {"row": event_to_row(event.to_dict())},
    )
    return event


def event_head(event: RepairEvent) -> ChainHead:
    return ChainHead(event.session_id, event.seq, event.event_digest)


def record_id(session_id: str, seq: int) -> RecordID:
    return RecordID("repairs_events", [session_id, seq])
