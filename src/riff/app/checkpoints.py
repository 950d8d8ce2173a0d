"""The transparency log as a service: checkpoints, proofs, and the log's verification.

Every event is a leaf of one RFC 9162 Merkle tree (its log index is its
position). A checkpoint is the signed tree head at some size; riff records it
in the database's append-only `checkpoints` table and writes it to
`<data dir>/checkpoints/<size>.note`, outside the database, where a truncated,
rolled-back or rewritten store cannot reach it. `verify_log` recomputes the
tree from the events themselves and holds it against every checkpoint it knows.

What the dashboard and the report use: `newest_checkpoint` (with a quick
status) and `inclusion_proof` (a self-contained, offline-verifiable proof).
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riff.app.errors import AppError, ProblemsFound
from riff.app.signing import key_path, load_signer, local_verifiers, parse_verifier_key
from riff.app.workspace import Workspace
from riff.events import RepairEvent
from riff.events.model import format_timestamp
from riff.settings import Settings
from riff.store import ImmutableEventStore
from riff.store.tlog import CheckpointRow, LeafRow
from riff.tlog import (
    Checkpoint,
    CompactRange,
    NoteSigner,
    NoteVerifier,
    TlogError,
    build_proof,
    consistency_ranges,
    decompose,
    event_leaf_hash,
    fold_nodes,
    inclusion_ranges,
    open_checkpoint,
    origin_for,
    read_checkpoint,
    sign_checkpoint,
)
from riff.tlog.proof_file import (
    ConsistencyProofFile,
    InclusionProofFile,
    VerifiedConsistency,
    VerifiedInclusion,
    looks_like_consistency_proof,
    looks_like_tlog_proof,
    verify_consistency_proof,
    verify_inclusion_proof,
)

CHECKPOINT_DIR = "checkpoints"
BACKFILL_BATCH = 2000


def checkpoint_dir(settings: Settings) -> Path:
    return settings.data_dir / CHECKPOINT_DIR


def checkpoint_path(settings: Settings, size: int) -> Path:
    return checkpoint_dir(settings) / f"{size}.note"


# ------------------------------------------------------------------ the tree


def log_origin(store: ImmutableEventStore) -> str:
    return origin_for(store.tlog.state().store_id)


def tree_root(store: ImmutableEventStore, size: int) -> bytes:
    """The tree head at `size` from the stored subtree hashes: O(log n) point reads."""
    wanted = decompose(0, size)
    found = store.tlog.nodes(wanted)
    return fold_nodes([found[node] for node in wanted])


def _ready_state(store: ImmutableEventStore) -> int:
    state = store.tlog.state()
    if state.backfill_pending:
        raise AppError(
            f"store {store.url}: the events stored before the transparency log have no log "
            "index yet; run `riff db migrate`"
        )
    return state.size


# ------------------------------------------------------------ checkpoint files


def _write_note(path: Path, note: str) -> None:
    """Write a checkpoint file atomically; an existing file must say the same thing."""
    if path.exists():
        existing = path.read_text(encoding="utf-8")
        if existing != note:
            existing_cp = read_checkpoint(existing)
            new_cp = read_checkpoint(note)
            if existing_cp.root != new_cp.root:
                raise ProblemsFound(
                    f"{path} holds another root for size {new_cp.size} "
                    f"({existing_cp.root_hex[:16]}… vs {new_cp.root_hex[:16]}…): the log "
                    "was rewritten; run `riff verify --db`"
                )
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            out.write(note)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class NoteOnDisk:
    path: Path
    note: str


def notes_on_disk(settings: Settings) -> list[NoteOnDisk]:
    """Every `<size>.note` in the checkpoint dir, smallest size first."""
    folder = checkpoint_dir(settings)
    if not folder.is_dir():
        return []
    found: list[tuple[int, NoteOnDisk]] = []
    for path in folder.glob("*.note"):
        if path.stem.isdigit():
            found.append((int(path.stem), NoteOnDisk(path, path.read_text(encoding="utf-8"))))
    return [note for _, note in sorted(found, key=lambda item: item[0])]


# ------------------------------------------------------------ making checkpoints


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    checkpoint: Checkpoint
    note: str
    path: Path
    created: bool  # False: the newest checkpoint already had this size
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.checkpoint.origin,
            "size": self.checkpoint.size,
            "root": self.checkpoint.root_hex,
            "note": self.note,
            "path": str(self.path),
            "created": self.created,
            "created_at": self.created_at,
        }


def signer_for(ws: Workspace) -> NoteSigner:
    return load_signer(ws.settings, log_origin(ws.store))


def create_checkpoint(ws: Workspace, *, now: datetime | None = None) -> CheckpointResult:
    """Sign the current tree head, record it in the database and write it to disk.

    Refuses (ProblemsFound) when the tree no longer extends the newest
    checkpoint on disk: riff never signs a rewritten history.
    """
    store = ws.store
    size = _ready_state(store)
    origin = log_origin(store)
    signer = load_signer(ws.settings, origin)
    root = tree_root(store, size)
    for previous in reversed(notes_on_disk(ws.settings)):
        try:
            old = read_checkpoint(previous.note)
        except TlogError:
            continue
        if old.origin != origin:
            continue
        if old.size > size:
            raise ProblemsFound(
                f"checkpoint {previous.path} covers {old.size} events but the log has only "
                f"{size}: events were lost; run `riff verify --db`"
            )
        if tree_root(store, old.size) != old.root:
            raise ProblemsFound(
                f"the log no longer matches checkpoint {previous.path} (size {old.size}); "
                "refusing to sign a rewritten history; run `riff verify --db`"
            )
        break
    checkpoint = Checkpoint(origin, size, root)
    path = checkpoint_path(ws.settings, size)
    existing = store.tlog.checkpoint(size)
    if existing is not None:
        if existing.root != root.hex():
            raise ProblemsFound(
                f"the database recorded another root for size {size}; run `riff verify --db`"
            )
        _write_note(path, existing.note)
        return CheckpointResult(checkpoint, existing.note, path, False, existing.created_at)
    note = sign_checkpoint(checkpoint, signer)
    created_at = format_timestamp(now or datetime.now(UTC))
    _write_note(path, note)
    store.tlog.add_checkpoint(CheckpointRow(size, root.hex(), origin, note, created_at))
    return CheckpointResult(checkpoint, note, path, True, created_at)


# ------------------------------------------------------------ the newest checkpoint


@dataclass(slots=True)
class CheckpointStatus:
    """The newest checkpoint and a quick check of it (O(log n), not a full verification)."""

    origin: str
    size: int
    root: str
    note: str
    created_at: str | None
    on_disk: bool
    in_database: bool
    signature_ok: bool | None  # None: no local key to check it with
    matches_database: bool
    log_size: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": self.root,
            "note": self.note,
            "created_at": self.created_at,
            "on_disk": self.on_disk,
            "in_database": self.in_database,
            "signature_ok": self.signature_ok,
            "matches_database": self.matches_database,
            "log_size": self.log_size,
            "ok": self.ok,
            "problems": list(self.problems),
        }


def newest_checkpoint(ws: Workspace) -> CheckpointStatus | None:
    """The newest checkpoint (disk or database) and whether it still holds; None if none yet."""
    store = ws.store
    log_size = store.tlog.state().size
    row = store.tlog.newest_checkpoint()
    disk = notes_on_disk(ws.settings)
    disk_note = disk[-1] if disk else None
    disk_cp = read_checkpoint(disk_note.note) if disk_note else None
    if row is None and disk_cp is None:
        return None
    if disk_cp is not None and (row is None or disk_cp.size >= row.size):
        note = disk_note.note if disk_note else ""
        size, root = disk_cp.size, disk_cp.root_hex
        origin = disk_cp.origin
        db_row = store.tlog.checkpoint(size)
        created_at = db_row.created_at if db_row else None
    else:
        assert row is not None
        note, size, root, origin, created_at = (
            row.note,
            row.size,
            row.root,
            row.origin,
            row.created_at,
        )
        db_row = row
    problems: list[str] = []
    verifiers = local_verifiers(ws.settings)
    signature_ok: bool | None = None
    if verifiers:
        try:
            open_checkpoint(note, verifiers)
            signature_ok = True
        except TlogError as exc:
            signature_ok = False
            problems.append(f"checkpoint {size}: {exc}")
    on_disk = checkpoint_path(ws.settings, size).exists()
    if not on_disk:
        problems.append(f"checkpoint {size} is in the database but not on disk")
    if db_row is None:
        problems.append(f"checkpoint {size} is on disk but not in the database")
    matches = size <= log_size and tree_root(store, size).hex() == root
    if size > log_size:
        problems.append(f"checkpoint {size} covers {size} events; the log has only {log_size}")
    elif not matches:
        problems.append(f"the log's tree at size {size} no longer has the checkpoint's root")
    return CheckpointStatus(
        origin,
        size,
        root,
        note,
        created_at,
        on_disk,
        db_row is not None,
        signature_ok,
        matches,
        log_size,
        problems,
    )


def recorded_checkpoints(ws: Workspace) -> list[dict[str, Any]]:
    """Every checkpoint riff knows (database and disk), smallest size first."""
    rows = {row.size: row for row in ws.store.tlog.checkpoints()}
    disk: dict[int, str] = {}
    for item in notes_on_disk(ws.settings):
        try:
            disk[read_checkpoint(item.note).size] = item.note
        except TlogError:
            continue
    listed: list[dict[str, Any]] = []
    for size in sorted(set(rows) | set(disk)):
        row = rows.get(size)
        note = row.note if row else disk[size]
        checkpoint = read_checkpoint(note)
        listed.append(
            {
                "size": size,
                "root": checkpoint.root_hex,
                "origin": checkpoint.origin,
                "created_at": row.created_at if row else None,
                "on_disk": size in disk,
                "in_database": row is not None,
            }
        )
    return listed


def public_key(ws: Workspace) -> dict[str, str]:
    """The verifier key of the signing key (created on first use)."""
    signer = signer_for(ws)
    verifier = signer.verifier()
    import base64

    source = (ws.settings.signing_key and "RIFF_SIGNING_KEY") or str(key_path(ws.settings))
    return {
        "name": verifier.name,
        "key_id": f"{verifier.key_id:08x}",
        "public_key": base64.b64encode(verifier.public_key).decode(),
        "vkey": verifier.vkey,
        "source": source,
    }


# ------------------------------------------------------------------- proofs


def _resolve_event(store: ImmutableEventStore, ref: str) -> tuple[RepairEvent, LeafRow]:
    event = store.event(ref)
    if event is None:
        rows = store.conn.one(
            "SELECT VALUE event_id FROM tlog_leaves WHERE string::starts_with(event_id, $p) "
            "LIMIT 2",
            {"p": ref},
        )
        if not rows:
            raise AppError(f"no event {ref!r} in the store; check the id (riff log)")
        if len(rows) > 1:
            raise AppError(f"event id prefix {ref!r} is ambiguous; give more of it")
        event = store.event(rows[0])
        if event is None:
            raise AppError(f"no event {ref!r} in the store; check the id (riff log)")
    leaf = store.tlog.leaf_for_event(event.event_id)
    if leaf is None:
        raise ProblemsFound(
            f"event {event.event_id} has no log index (a store with pending migration, or a "
            "row written past riff); run `riff verify --db`"
        )
    return event, leaf


def inclusion_proof(ws: Workspace, event_ref: str) -> InclusionProofFile:
    """A self-contained proof that the event is in the log, against the newest checkpoint
    that covers it (a new checkpoint is made when none does)."""
    store = ws.store
    event, leaf = _resolve_event(store, event_ref)
    row = store.tlog.newest_checkpoint()
    if row is None or row.size <= leaf.log_index:
        made = create_checkpoint(ws)
        note, size = made.note, made.checkpoint.size
    else:
        note, size = row.note, row.size
    path = build_proof(inclusion_ranges(leaf.log_index, size), store.tlog.nodes)
    proof = InclusionProofFile(event.to_dict(), leaf.log_index, tuple(path), note)
    verifiers = local_verifiers(ws.settings)
    if verifiers:  # never hand out a proof that does not verify
        try:
            verify_inclusion_proof(proof.render(), verifiers)
        except TlogError as exc:
            raise ProblemsFound(
                f"the proof for event {event.event_id} does not verify ({exc}); the stored "
                "tree is damaged: run `riff verify --db`"
            ) from None
    return proof


def _note_for(ws: Workspace, ref: str) -> str:
    """A checkpoint by size (database or disk) or a note file's path."""
    if ref.isdigit():
        row = ws.store.tlog.checkpoint(int(ref))
        if row is not None:
            return row.note
        path = checkpoint_path(ws.settings, int(ref))
        if path.exists():
            return path.read_text(encoding="utf-8")
        raise AppError(f"no checkpoint of size {ref}; `riff checkpoint --list` shows them")
    path = Path(ref).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AppError(f"checkpoint {ref}: cannot read it ({exc.strerror})") from None


def consistency_proof(ws: Workspace, old_ref: str, new_ref: str | None) -> ConsistencyProofFile:
    """A proof that the checkpoint NEW (default: the newest) extends OLD."""
    store = ws.store
    old_note = _note_for(ws, old_ref)
    if new_ref is None:
        newest = store.tlog.newest_checkpoint()
        if newest is None:
            raise AppError("no checkpoint yet; run `riff checkpoint`")
        new_note = newest.note
    else:
        new_note = _note_for(ws, new_ref)
    old, new = read_checkpoint(old_note), read_checkpoint(new_note)
    if old.size > new.size:
        raise AppError(f"OLD (size {old.size}) is newer than NEW (size {new.size})")
    if new.size > store.tlog.state().size:
        raise ProblemsFound(
            f"checkpoint {new.size} covers more events than the log holds; run `riff verify --db`"
        )
    path = build_proof(consistency_ranges(old.size, new.size), store.tlog.nodes)
    return ConsistencyProofFile(old_note, new_note, tuple(path))


# ------------------------------------------------------ offline proof checking


def proof_kind(path: Path) -> str | None:
    """'inclusion' or 'consistency' when the file is one of riff's proofs, else None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(256)
    except OSError:
        return None
    if looks_like_tlog_proof(head):
        return "inclusion"
    if looks_like_consistency_proof(head):
        return "consistency"
    return None


def verifiers_for(settings: Settings, key: str | None) -> list[NoteVerifier]:
    if key:
        return [parse_verifier_key(key)]
    found = local_verifiers(settings)
    if not found:
        raise AppError(
            "no public key to check the proof with: pass --key VKEY (or a file holding it; "
            "`riff key show` prints it on the machine that signed)"
        )
    return found


def verify_proof_file(
    path: Path, settings: Settings, key: str | None
) -> VerifiedInclusion | VerifiedConsistency:
    """Check a proof file offline (TlogError when it does not verify)."""
    verifiers = verifiers_for(settings, key)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ProblemsFound(f"{path}: not a text file; not a riff proof") from None
    if proof_kind(path) == "inclusion":
        return verify_inclusion_proof(text, verifiers)
    return verify_consistency_proof(text, verifiers)


# -------------------------------------------------- verifying the whole log


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
    for row in ws.store.tlog.checkpoints():
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
    store = ws.store
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
        leaf = event_leaf_hash(event)
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


# ------------------------------------------------------- migrating old stores


def backfill_order(store: ImmutableEventStore) -> Iterator[RepairEvent]:
    """The order the migration gives events stored before the log existed.

    Each session's events keep their seq order; sessions are merged by the
    events' (timestamp, session_id, seq), so the result depends on the events
    alone, never on how the database happens to return them.
    """
    streams = [store.events(session_id) for session_id in sorted(store.sessions())]
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
