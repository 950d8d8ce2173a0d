"""Stores from before the transparency log: their events get leaves, in an order that
depends on the events alone (`riff db migrate`)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from riff.events import RepairEvent, event_from_row
from riff.store import ImmutableEventStore
from riff.store.tlog import LeafRow
from riff.tlog import CompactRange, decompose, event_leaf_hash

BACKFILL_BATCH = 2000


def backfill_order(store: ImmutableEventStore) -> Iterator[RepairEvent]:
    """The order the migration gives events stored before the log existed.

    Each session's events keep their seq order; sessions are merged by the
    events' (timestamp, session_id, seq), so the result depends on the events
    alone, never on how the database happens to return them.
    """
    streams = [
        map(event_from_row, store.events(session_id)) for session_id in sorted(store.sessions())
    ]
    return heapq.merge(*streams, key=lambda e: (e.timestamp, e.session_id, e.seq))


def finish_migration(store: ImmutableEventStore) -> int:
    """Give every event stored before schema 4 its leaf; return how many. Resumable."""
    state = store.tlog.state()
    if not state.backfill_pending:
        return 0
    wanted = decompose(0, state.size)
    found = store.tlog.nodes(wanted)
    tree = CompactRange(state.size, [found[node] for node in wanted])
    batch: list[LeafRow] = []
    added = 0
    for position, event in enumerate(backfill_order(store)):
        if position < state.size:
            continue  # given its leaf by an interrupted earlier run
        nodes = tree.append(event_leaf_hash(event.digest_payload()))
        batch.append(
            LeafRow(
                position, event.session_id, event.seq, event.event_id, tuple(h.hex() for h in nodes)
            )
        )
        if len(batch) >= BACKFILL_BATCH:
            store.tlog.append_backfill(batch, done=False)
            added += len(batch)
            batch = []
    store.tlog.append_backfill(batch, done=True)
    return added + len(batch)
