"""Attacks on a real store (mem://): what a root client or a record user can send."""

from __future__ import annotations

from surrealdb import RecordID

from riff.events import ChainHead, EventDraft, RepairEvent, seal_event
from riff.store import ImmutableEventStore, create_user
from riff.store.rows import event_to_row
from riff.store.users import signed_in_name

ADMIN = ("admin", "admin-pw")


def sign_in_as_record_user(store: ImmutableEventStore, name: str, password: str) -> None:
    """Switch the store's connection to a record user (created first, as root)."""
    create_user(store.conn, name, password)
    store.conn.invalidate()
    store.conn.use("riff", "riff")
    store.conn.signin_record("operator", name, password)
    store.identity = signed_in_name(store.conn)


def sign_in_as_root(store: ImmutableEventStore) -> None:
    """Back to a root owner (the embedded engine starts unauthenticated, as root)."""
    store.conn.invalidate()
    store.conn.run("DEFINE USER IF NOT EXISTS admin ON ROOT PASSWORD 'admin-pw' ROLES OWNER")
    store.conn.signin_root(*ADMIN)
    store.conn.use("riff", "riff")
    store.identity = None


def slip_in_event(
    store: ImmutableEventStore, session_id: str, draft: EventDraft, head: ChainHead
) -> RepairEvent:
    """A valid, sealed event inserted straight into the table: the head row is not moved."""
    event = seal_event(head, draft)
    store.conn.run(
        "INSERT RELATION INTO repairs_events [$row] RETURN NONE", {"row": event_to_row(event)}
    )
    return event


def event_head(event: RepairEvent) -> ChainHead:
    return ChainHead(event.session_id, event.seq, event.event_digest)


def record_id(session_id: str, seq: int) -> RecordID:
    return RecordID("repairs_events", [session_id, seq])
