"""Shared helpers for the store and view tests (real engine, never a mock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riff.app.eventlog import EventLog
from riff.events import EventDraft
from riff.settings import Settings
from riff.store import ImmutableEventStore, open_store
from tests.event_factories import message_uuid

M = [message_uuid(i) for i in range(64)]


def mem_recorder(**kw: Any) -> ImmutableEventStore:
    """The SurrealDB recorder on mem:// (plain rows)."""
    return open_store(Settings(db_url="mem://", data_dir=Path("/nonexistent")), **kw)


def mem_store(**kw: Any) -> EventLog:
    """The event log over a mem:// SurrealDB recorder (what riff.app works with)."""
    return EventLog(mem_recorder(**kw))


def kv_settings(tmp_path: Path) -> Settings:
    return Settings(db_url=f"surrealkv://{tmp_path / 'store'}", data_dir=tmp_path)


def chain_drafts(n: int, *, operator: str = "alice", offset: int = 0) -> list[EventDraft]:
    """n valid repairs: message M[i+1] moves from M[i] to M[0] and back, alternating."""
    drafts: list[EventDraft] = []
    parents = {M[i + 1]: M[i] for i in range(40)}
    for k in range(n):
        mid = M[1 + (k + offset) % 40]
        old = parents[mid]
        new = M[0] if old != M[0] else M[M.index(mid) - 1]
        drafts.append(EventDraft(mid, old, new, operator, f"r{k}", 0.5 if k % 2 else None))
        parents[mid] = new
    return drafts


def full_dump(store: EventLog) -> list[Any]:
    """Every row of every append-only table, to compare before and after an attack."""
    conn = store.recorder.conn  # type: ignore[attr-defined]
    return [
        conn.one(f"SELECT * FROM {table} ORDER BY id")
        for table in ("repairs_events", "session", "message", "session_head")
    ]
