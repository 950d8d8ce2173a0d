"""Proofs from the transparency log: inclusion of an event, consistency of two checkpoints,
and the offline check of a proof file (no database: a public key is all it needs)."""

from __future__ import annotations

from pathlib import Path

from riff.app.admin import surreal_store
from riff.app.checkpoints import checkpoint_path, create_checkpoint
from riff.app.errors import AppError, ProblemsFound
from riff.app.signing import local_verifiers, parse_verifier_key
from riff.app.workspace import Workspace
from riff.events import RepairEvent, event_from_row
from riff.settings import Settings
from riff.store import ImmutableEventStore
from riff.store.tlog import LeafRow
from riff.tlog import (
    NoteVerifier,
    TlogError,
    build_proof,
    consistency_ranges,
    inclusion_ranges,
    read_checkpoint,
)
from riff.tlog.proof_file import (
    ConsistencyProofFile,
    InclusionProofFile,
    VerifiedConsistency,
    VerifiedInclusion,
    verify_consistency_proof,
    verify_inclusion_proof,
)
from riff.tlog.proof_kinds import proof_kind


def _resolve_event(store: ImmutableEventStore, ref: str) -> tuple[RepairEvent, LeafRow]:
    row = store.event(ref)
    if row is None:
        rows = store.conn.one(
            "SELECT VALUE event_id FROM tlog_leaves WHERE string::starts_with(event_id, $p) "
            "LIMIT 2",
            {"p": ref},
        )
        if not rows:
            raise AppError(f"no event {ref!r} in the store; check the id (riff log)")
        if len(rows) > 1:
            raise AppError(f"event id prefix {ref!r} is ambiguous; give more of it")
        row = store.event(rows[0])
        if row is None:
            raise AppError(f"no event {ref!r} in the store; check the id (riff log)")
    event = event_from_row(row)
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
    store = surreal_store(ws)
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
        row = surreal_store(ws).tlog.checkpoint(int(ref))
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
    store = surreal_store(ws)
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
