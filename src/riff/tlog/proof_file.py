"""Self-contained proof files, checked offline with nothing but a public key.

An inclusion proof is a C2SP tlog-proof (https://c2sp.org/tlog-proof)::

    c2sp.org/tlog-proof@v1
    extra <base64 of the event as JSON>
    index <the event's log index>
    <base64 hash>            one line per step of the inclusion path
    …
                             (a blank line)
    <the signed checkpoint the path leads to>

riff puts the event itself in `extra`, so the file proves "this event, with
these fields, is entry N of the log whose signed checkpoint follows".

A consistency proof (no C2SP format exists) is a JSON object
`{"format": "riff.tlog-consistency/1", "old_checkpoint": NOTE,
"new_checkpoint": NOTE, "proof": [base64 hash, …]}`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from riff.events import EVENT_FIELDS, EventValidationError, compute_event_digest
from riff.events.model import check_event_values
from riff.tlog.checkpoint import Checkpoint, open_checkpoint
from riff.tlog.errors import ProofError, TlogError
from riff.tlog.leaves import event_leaf_hash
from riff.tlog.note import NoteVerifier, strict_b64decode
from riff.tlog.proof_kinds import (
    CONSISTENCY_FORMAT,
    TLOG_PROOF_HEADER,
)
from riff.tlog.proofs import verify_consistency, verify_inclusion


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        return strict_b64decode(text)
    except ValueError:
        raise ProofError(f"{what} is not valid base64") from None


def event_json(event: Mapping[str, Any]) -> bytes:
    """The event as one JSON object, the spec's fields in the spec's order."""
    return orjson.dumps({name: event[name] for name in EVENT_FIELDS})


@dataclass(frozen=True, slots=True)
class InclusionProofFile:
    event: dict[str, Any]
    index: int
    path: tuple[bytes, ...]
    checkpoint_note: str

    def render(self) -> str:
        lines = [
            TLOG_PROOF_HEADER,
            f"extra {_b64(event_json(self.event))}",
            f"index {self.index}",
            *(_b64(h) for h in self.path),
        ]
        return "\n".join(lines) + "\n\n" + self.checkpoint_note


def parse_inclusion_proof(text: str) -> InclusionProofFile:
    """The parts of a tlog-proof file (ProofError naming the line that is wrong)."""
    header, sep, rest = text.partition("\n")
    if header != TLOG_PROOF_HEADER or not sep:
        raise ProofError(f"line 1: expected {TLOG_PROOF_HEADER!r}")
    head, sep, note = rest.partition("\n\n")
    if not sep:
        raise ProofError("no blank line between the proof and its checkpoint")
    lines = head.split("\n")
    number = 2
    if not lines[0].startswith("extra "):
        raise ProofError("line 2: riff proofs carry the event as 'extra <base64>'")
    raw = _unb64(lines[0][len("extra ") :], "line 2 (extra)")
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProofError("line 2: the extra data is not a JSON event") from None
    if not isinstance(event, dict) or list(event) != list(EVENT_FIELDS):
        raise ProofError("line 2: the extra data is not a riff event with exactly its 16 fields")
    if event_json(event) != raw:
        raise ProofError("line 2: the event is not in riff's compact JSON form")
    number = 3
    if len(lines) < 2 or not lines[1].startswith("index "):
        raise ProofError(f"line {number}: expected 'index N'")
    index_text = lines[1][len("index ") :]
    if (
        not index_text.isascii()
        or not index_text.isdigit()
        or (index_text != "0" and index_text.startswith("0"))
    ):
        raise ProofError(f"line {number}: index {index_text!r} is not a decimal number")
    path = tuple(_unb64(line, f"line {n}") for n, line in enumerate(lines[2:], start=4))
    return InclusionProofFile(event, int(index_text), path, note)


@dataclass(frozen=True, slots=True)
class VerifiedInclusion:
    event: dict[str, Any]
    index: int
    checkpoint: Checkpoint


def check_event(event: Mapping[str, Any]) -> bytes:
    """The event's leaf hash, once its values and its digest are checked."""
    try:
        check_event_values(event)
    except EventValidationError as exc:
        raise ProofError(f"the event is not valid: {exc}") from None
    if compute_event_digest(event) != event["event_digest"]:
        raise ProofError(
            f"event {event['event_id']}: its fields do not hash to its event_digest "
            "(the event was changed)"
        )
    return event_leaf_hash(event)


def verify_inclusion_proof(
    text: str, verifiers: list[NoteVerifier], *, origin: str | None = None
) -> VerifiedInclusion:
    """Check a tlog-proof file: signature, event digest, inclusion path (ProofError/TlogError)."""
    proof = parse_inclusion_proof(text)
    checkpoint = open_checkpoint(proof.checkpoint_note, verifiers, origin=origin)
    leaf = check_event(proof.event)
    if proof.index >= checkpoint.size:
        raise ProofError(
            f"index {proof.index} is outside the checkpoint's tree of {checkpoint.size} events"
        )
    verify_inclusion(proof.index, checkpoint.size, leaf, proof.path, checkpoint.root)
    return VerifiedInclusion(dict(proof.event), proof.index, checkpoint)


@dataclass(frozen=True, slots=True)
class ConsistencyProofFile:
    old_note: str
    new_note: str
    path: tuple[bytes, ...]

    def render(self) -> str:
        doc = {
            "format": CONSISTENCY_FORMAT,
            "old_checkpoint": self.old_note,
            "new_checkpoint": self.new_note,
            "proof": [_b64(h) for h in self.path],
        }
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"


def parse_consistency_proof(text: str) -> ConsistencyProofFile:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProofError("a consistency proof is one JSON object") from None
    if not isinstance(doc, dict) or doc.get("format") != CONSISTENCY_FORMAT:
        raise ProofError(f"not a {CONSISTENCY_FORMAT} document")
    if set(doc) != {"format", "old_checkpoint", "new_checkpoint", "proof"}:
        raise ProofError("a consistency proof has format, old_checkpoint, new_checkpoint, proof")
    old, new, proof = doc["old_checkpoint"], doc["new_checkpoint"], doc["proof"]
    if not isinstance(old, str) or not isinstance(new, str):
        raise ProofError("the checkpoints must be signed notes (strings)")
    if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
        raise ProofError("proof must be a list of base64 hashes")
    return ConsistencyProofFile(
        old, new, tuple(_unb64(h, f"proof[{i}]") for i, h in enumerate(proof))
    )


@dataclass(frozen=True, slots=True)
class VerifiedConsistency:
    old: Checkpoint
    new: Checkpoint


def verify_consistency_checkpoints(old: Checkpoint, new: Checkpoint, path: Sequence[bytes]) -> None:
    if old.origin != new.origin:
        raise ProofError(f"the checkpoints name two logs: {old.origin!r} and {new.origin!r}")
    verify_consistency(old.size, new.size, old.root, new.root, path)


def verify_consistency_proof(
    text: str, verifiers: list[NoteVerifier], *, origin: str | None = None
) -> VerifiedConsistency:
    proof = parse_consistency_proof(text)
    try:
        old = open_checkpoint(proof.old_note, verifiers, origin=origin)
        new = open_checkpoint(proof.new_note, verifiers, origin=origin)
    except TlogError as exc:
        raise ProofError(f"a checkpoint does not verify: {exc}") from None
    verify_consistency_checkpoints(old, new, proof.path)
    return VerifiedConsistency(old, new)
