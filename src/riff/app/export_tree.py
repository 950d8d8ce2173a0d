"""An export held against a signed checkpoint: do its events build that tree?

An export made after a checkpoint carries it (`transparency_log.checkpoint`)
and each event's log index (`transparency_log.log_indexes`, in file order).
The check recomputes every event's leaf hash, puts it at its index, and
folds the first `size` leaves into the root the checkpoint signed. Memory:
32 bytes per event (the leaf hashes) plus the index list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riff.events.export import ExportReader
from riff.tlog import (
    Checkpoint,
    CompactRange,
    NoteVerifier,
    TlogError,
    event_leaf_hash,
    open_checkpoint,
    read_checkpoint,
)

HASH = 32


@dataclass(slots=True)
class ExportTreeCheck:
    checked: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checkpoints": self.checked,
            "problems": self.problems,
            "remarks": self.remarks,
        }


def _leaves_by_index(path: Path) -> tuple[bytearray, int, str | None, list[str]]:
    """(leaf hashes at their indexes, leaves known, embedded checkpoint, problems)."""
    reader = ExportReader.open(path)
    in_file = bytearray()
    count = 0
    for row in reader.events():
        in_file += event_leaf_hash(row)
        count += 1
    trailer = reader.trailer
    log = trailer.transparency_log if trailer is not None else None
    if not log:
        return bytearray(), 0, None, []
    indexes = log.get("log_indexes")
    note = log.get("checkpoint")
    problems: list[str] = []
    if not isinstance(indexes, list) or len(indexes) != count:
        entries = len(indexes) if isinstance(indexes, list) else 0
        problem = f"transparency_log.log_indexes has {entries} entries for {count} events"
        return bytearray(), 0, note, [problem]
    valid = [i for i in indexes if isinstance(i, int) and not isinstance(i, bool) and i >= 0]
    if len(valid) != count:
        problems.append("some events carry no valid log index")
    size = max(valid, default=-1) + 1
    if size > 4 * count + 16:
        return bytearray(), 0, note, [f"log index {size - 1} is far beyond the {count} events"]
    by_index = bytearray(size * HASH)
    seen = bytearray(size)
    for position, index in enumerate(indexes):
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            continue
        if seen[index]:
            problems.append(f"log index {index} is claimed by two events")
            continue
        seen[index] = 1
        by_index[index * HASH : (index + 1) * HASH] = in_file[
            position * HASH : (position + 1) * HASH
        ]
    known = seen.find(0) if 0 in seen else size
    return by_index, known, note if isinstance(note, str) else None, problems


def verify_export_tree(
    path: Path, notes: Iterable[tuple[str, str]], verifiers: list[NoteVerifier]
) -> ExportTreeCheck:
    """Check the export's events against its own checkpoint and against `notes` (where, text)."""
    result = ExportTreeCheck()
    by_index, known, embedded, problems = _leaves_by_index(path)
    result.problems.extend(problems)
    candidates = list(notes)
    if embedded is not None:
        candidates.insert(0, ("the export", embedded))
    if not candidates:
        result.remarks.append("the export carries no checkpoint (made before the first one)")
    for where, note in candidates:
        try:
            checkpoint: Checkpoint = (
                open_checkpoint(note, verifiers) if verifiers else read_checkpoint(note)
            )
        except TlogError as exc:
            result.problems.append(f"checkpoint from {where}: {exc}")
            continue
        if not verifiers:
            result.remarks.append(f"checkpoint from {where}: signature not checked (no --key)")
        entry = {"where": where, "size": checkpoint.size, "origin": checkpoint.origin}
        if checkpoint.size > known:
            problem = (
                f"checkpoint from {where} covers {checkpoint.size} events; the export holds "
                f"log indexes 0..{known - 1} only"
                if known
                else f"checkpoint from {where} covers {checkpoint.size} events; the export "
                "carries no log indexes to check it with"
            )
            result.problems.append(problem)
            result.checked.append(entry | {"ok": False, "problem": problem})
            continue
        tree = CompactRange()
        for index in range(checkpoint.size):
            tree.append(bytes(by_index[index * HASH : (index + 1) * HASH]))
        if tree.root() != checkpoint.root:
            problem = (
                f"the export's first {checkpoint.size} events do not build the tree that "
                f"checkpoint from {where} signed"
            )
            result.problems.append(problem)
            result.checked.append(entry | {"ok": False, "problem": problem})
            continue
        result.checked.append(entry | {"ok": True})
    return result
