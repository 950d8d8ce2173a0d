"""The transparency log as a service: checkpoints, proofs, and the log's verification.

Every event is a leaf of one RFC 9162 Merkle tree (its log index is its
position). A checkpoint is the signed tree head at some size; riff records it
in the database's append-only `checkpoints` table and writes it to
`<data dir>/checkpoints/<size>.note`, outside the database, where a truncated,
rolled-back or rewritten store cannot reach it. `verify_log` recomputes the
tree from the events themselves and holds it against every checkpoint it knows.

What the dashboard and the report use: `newest_checkpoint` here (with a
quick status) and `riff.app.proofs.inclusion_proof` (a self-contained,
offline-verifiable proof). The full check is `riff.app.log_audit.verify_log`;
older stores get their leaves from `riff.app.tlog_migration`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riff.app.admin import surreal_recorder, surreal_store
from riff.app.errors import AppError, ProblemsFound
from riff.app.eventlog import EventLog
from riff.app.signing import key_path, load_signer, local_verifiers
from riff.app.workspace import Workspace
from riff.events.model import format_event_timestamp
from riff.settings import Settings
from riff.store import ImmutableEventStore
from riff.store.tlog import CheckpointRow
from riff.tlog import (
    Checkpoint,
    NoteSigner,
    TlogError,
    decompose,
    fold_nodes,
    open_checkpoint,
    origin_for,
    read_checkpoint,
    sign_checkpoint,
)

CHECKPOINT_DIR = "checkpoints"


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
    return load_signer(ws.settings, log_origin(surreal_store(ws)))


def create_checkpoint(ws: Workspace, *, now: datetime | None = None) -> CheckpointResult:
    """Sign the current tree head, record it in the database and write it to disk."""
    return make_checkpoint(surreal_store(ws), ws.settings, now=now)


def checkpoint_after_change(ws: Workspace) -> CheckpointResult | None:
    """The `checkpoint_on_change` setting: a checkpoint after each repair or revert."""
    if not ws.settings.checkpoint_on_change:
        return None
    return create_checkpoint(ws)


def make_checkpoint(
    any_store: EventLog | ImmutableEventStore, settings: Settings, *, now: datetime | None = None
) -> CheckpointResult:
    """Sign the current tree head, record it in the database and write it to disk.

    Refuses (ProblemsFound) when the tree no longer extends the newest
    checkpoint on disk: riff never signs a rewritten history.
    """
    store = surreal_recorder(any_store)
    size = _ready_state(store)
    origin = log_origin(store)
    signer = load_signer(settings, origin)
    root = tree_root(store, size)
    for previous in reversed(notes_on_disk(settings)):
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
    path = checkpoint_path(settings, size)
    existing = store.tlog.checkpoint(size)
    if existing is not None:
        if existing.root != root.hex():
            raise ProblemsFound(
                f"the database recorded another root for size {size}; run `riff verify --db`"
            )
        _write_note(path, existing.note)
        return CheckpointResult(checkpoint, existing.note, path, False, existing.created_at)
    note = sign_checkpoint(checkpoint, signer)
    created_at = format_event_timestamp(now or datetime.now(UTC))
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
    store = surreal_store(ws)
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
    rows = {row.size: row for row in surreal_store(ws).tlog.checkpoints()}
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
