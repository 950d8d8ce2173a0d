"""The transparency log rebuilt from the events themselves and held against every
signed checkpoint riff knows (`riff verify --db`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from riff.app.admin import surreal_store
from riff.app.checkpoints import checkpoint_path, notes_on_disk
from riff.app.signing import local_verifiers, parse_verifier_key
from riff.app.workspace import Workspace
from riff.store import ImmutableEventStore
from riff.tlog import (
    Checkpoint,
    CompactRange,
    TlogError,
    event_leaf_hash,
    open_checkpoint,
    origin_for,
    read_checkpoint,
)


@dataclass(slots=True)
class CheckpointCheck:
    size: int
    source: str  # "disk", "database", "given"
    where: str
    ok: bool
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "source": self.source,
            "where": self.where,
            "ok": self.ok,
            "problem": self.problem,
        }


@dataclass(slots=True)
class LogVerification:
    """The tree rebuilt from the events themselves, held against every known checkpoint."""

    origin: str = ""
    tree_size: int = 0
    leaves_checked: int = 0
    events_in_store: int = 0
    root: str = ""
    checkpoints: list[CheckpointCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.checkpoints)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "leaves_checked": self.leaves_checked,
            "events_in_store": self.events_in_store,
            "root": self.root,
            "checkpoints": [c.to_dict() for c in self.checkpoints],
            "problems": list(self.problems),
        }


_LEAF_PAGE = (
    "SELECT log_index, session_id, seq, event_id, nodes, "
    "type::thing('repairs_events', [session_id, seq]).{{{fields}}} AS event "
    "FROM tlog_leaves:{lo}..{hi}"
)


def _leaves_with_events(
    store: ImmutableEventStore, size: int, page: int = 2000
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    from riff.store.rows import EVENT_SELECT

    lo = 0
    while lo < size:
        hi = min(lo + page, size)
        rows = store.conn.one(_LEAF_PAGE.format(fields=EVENT_SELECT, lo=int(lo), hi=int(hi))) or []
        rows.sort(key=lambda r: int(r["log_index"]))
        for row in rows:
            event = row.get("event")
            yield row, (event if event and event.get("event_id") else None)
        if len(rows) < hi - lo:
            return
        lo = hi


def _count_events(store: ImmutableEventStore) -> int:
    rows = store.conn.one("SELECT count() AS n FROM repairs_events GROUP ALL")
    return int(rows[0]["n"]) if rows else 0


def _known_checkpoints(
    ws: Workspace, extra_notes: Iterable[tuple[str, str]]
) -> list[tuple[str, str, str]]:
    """(source, where, note) of every checkpoint: on disk, in the database, given."""
    found: list[tuple[str, str, str]] = []
    for item in notes_on_disk(ws.settings):
        found.append(("disk", str(item.path), item.note))
    for row in surreal_store(ws).tlog.checkpoints():
        found.append(("database", f"checkpoints:{row.size}", row.note))
    for where, note in extra_notes:
        found.append(("given", where, note))
    return found


def verify_log(
    ws: Workspace, *, extra_notes: Iterable[tuple[str, str]] = (), key: str | None = None
) -> LogVerification:
    """Rebuild the tree from the stored events and check it against every checkpoint.

    Reads each leaf with its event (one query per page), recomputes the leaf
    hash from the event's fields and every stored subtree hash from those, so
    a changed, deleted or reordered event, a truncated tree, or a restored old
    copy of the store shows up against any checkpoint made before.
    """
    store = surreal_store(ws)
    result = LogVerification()
    state = store.tlog.state()
    result.origin = origin_for(state.store_id)
    result.tree_size = state.size
    result.events_in_store = _count_events(store)
    verifiers = [parse_verifier_key(key)] if key else local_verifiers(ws.settings)
    if state.backfill_pending:
        result.problems.append("events stored before the log have no log index: riff db migrate")

    # Which roots to note on the way: every checkpoint's size.
    checks: list[tuple[CheckpointCheck, Checkpoint | None]] = []
    disk_sizes: set[int] = set()
    db_notes: dict[int, str] = {}
    for source, where, note in _known_checkpoints(ws, extra_notes):
        try:
            checkpoint = open_checkpoint(note, verifiers) if verifiers else read_checkpoint(note)
        except TlogError as exc:
            checks.append((CheckpointCheck(-1, source, where, False, str(exc)), None))
            continue
        if checkpoint.origin != result.origin:
            checks.append(
                (
                    CheckpointCheck(
                        checkpoint.size,
                        source,
                        where,
                        False,
                        f"the checkpoint is for log {checkpoint.origin}, this store is "
                        f"{result.origin}: the database was replaced or re-created",
                    ),
                    None,
                )
            )
            continue
        if source == "disk":
            disk_sizes.add(checkpoint.size)
        if source == "database":
            db_notes[checkpoint.size] = note
        checks.append((CheckpointCheck(checkpoint.size, source, where, True), checkpoint))
    if not verifiers and checks:
        result.problems.append("no public key: checkpoint signatures were not checked (--key)")
    wanted = {cp.size for _, cp in checks if cp is not None}
    roots: dict[int, bytes] = {}

    from riff.store.rows import decoded_event_row  # format 2 keeps `edit` as JSON text

    tree = CompactRange()
    if 0 in wanted:
        roots[0] = tree.root()
    seen_ids: set[int] = set()
    for row, event in _leaves_with_events(store, state.size):
        index = int(row["log_index"])
        if index != tree.size:
            result.problems.append(f"log index {tree.size} is missing (next stored: {index})")
            break
        if event is None:
            result.problems.append(
                f"log index {index}: event {row['event_id']} (session {row['session_id']} seq "
                f"{row['seq']}) is missing from the database"
            )
            break
        leaf = event_leaf_hash(decoded_event_row(event))
        completed = tree.append(leaf)
        seen_ids.add(hash(event["event_id"]))
        stored = row["nodes"]
        if stored and stored[0] != leaf.hex():
            result.problems.append(
                f"log index {index}: event {event['event_id']} no longer hashes to its leaf "
                "(the event was changed)"
            )
        elif [h.hex() for h in completed] != list(stored):
            result.problems.append(f"log index {index}: stored subtree hashes are wrong")
        if tree.size in wanted:
            roots[tree.size] = tree.root()
        if len(result.problems) >= 20:
            result.problems.append("… stopped after 20 problems")
            break
    result.leaves_checked = tree.size
    result.root = tree.root().hex()
    if tree.size == state.size and result.events_in_store != state.size:
        result.problems.append(_unindexed(store, result.events_in_store, state.size, seen_ids))
    elif tree.size < state.size and not result.problems:
        result.problems.append(
            f"the tree's state says {state.size} leaves but only {tree.size} are stored "
            "(the leaf table was cut or dropped)"
        )

    for check, known in checks:
        if known is None:
            continue
        if known.size > tree.size:
            check.ok = False
            check.problem = (
                f"the checkpoint covers {known.size} events; the database's log has "
                f"{tree.size}: events {tree.size}..{known.size - 1} are missing"
            )
        elif roots.get(known.size) != known.root:
            check.ok = False
            check.problem = (
                f"the log's tree at size {known.size} has another root: events before "
                f"index {known.size} were changed, removed or reordered"
            )
    # The chain: every checkpoint on disk must be in the database and the other way round.
    for size in sorted(disk_sizes - set(db_notes)):
        result.problems.append(
            f"checkpoint {size} is on disk but not in the database's checkpoints table "
            "(the table was dropped, or the store restored from an older copy)"
        )
    for size in sorted(set(db_notes) - disk_sizes):
        result.problems.append(
            f"checkpoint {size} is in the database but not at {checkpoint_path(ws.settings, size)}"
        )
    result.checkpoints = [check for check, _ in checks]
    return result


def _unindexed(store: ImmutableEventStore, events: int, leaves: int, seen: set[int]) -> str:
    if events < leaves:
        return f"the log indexes {leaves} events but the database holds only {events}"
    rows = store.conn.one("SELECT VALUE event_id FROM repairs_events") or []
    stray = [eid for eid in rows if hash(eid) not in seen][:5]
    return f"{events - leaves} event(s) have no log index (written past riff): " + ", ".join(stray)
