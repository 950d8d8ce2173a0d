"""Line edits: the payload of a format-2 event that changes a transcript's bytes.

A transcript is a sequence of *segments*: each physical line with its own
newline (the last may have none), so their concatenation is the file, byte
for byte. An edit replaces the segments starting at 1-based `line` that hash
to `removed` with the segments that hash to `inserted`. Segments are named by
SHA-256 and size only; their bytes live in the blob store, so the event (and
its digest) pins them exactly while the log stays small.

The revert of an edit is its mirror: the same `line`, `removed` and
`inserted` swapped. Applying an edit and then its mirror gives back the
original bytes exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from riff.events.errors import EventError, EventValidationError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
EDIT_KEYS = ("line", "removed", "inserted")


class LineEditError(EventError):
    """The file does not hold what an edit expects, or a blob is missing."""


def blob_id(data: bytes) -> str:
    """The content address of a segment: lowercase hex SHA-256."""
    # Imported here: OpenSSL is 3.5 MB of RSS, and a scan imports this module only to
    # tell whether a torn line is repairable, which hashes nothing.
    import hashlib

    return hashlib.sha256(data).hexdigest()


def split_segments(data: bytes) -> list[bytes]:
    """Physical lines with their newline; `b"".join` gives `data` back."""
    # Only b"\n" ends a line: bytes.splitlines also breaks on \r, \x0b, \x1c…,
    # which a torn line may hold.
    parts = data.split(b"\n")
    segments = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        segments.append(parts[-1])
    return segments


def _ref(data: bytes) -> dict[str, Any]:
    return {"sha256": blob_id(data), "size": len(data)}


@dataclass(frozen=True, slots=True)
class LineEdit:
    """Replace segments `line`.. (1-based) holding `removed` with `inserted`."""

    line: int
    removed: tuple[bytes, ...]
    inserted: tuple[bytes, ...]

    def to_value(self) -> dict[str, Any]:
        """The event's `edit` field: content addresses only."""
        return {
            "line": self.line,
            "removed": [_ref(seg) for seg in self.removed],
            "inserted": [_ref(seg) for seg in self.inserted],
        }

    def blobs(self) -> dict[str, bytes]:
        """Every segment this edit names, by content address."""
        return {blob_id(seg): seg for seg in (*self.removed, *self.inserted)}


def check_edit_value(edit: object) -> None:
    """Raise EventValidationError unless `edit` is a well-formed edit value."""
    if not isinstance(edit, Mapping) or sorted(edit) != sorted(EDIT_KEYS):
        raise EventValidationError("edit", edit, f"must be an object with keys {list(EDIT_KEYS)}")
    line = edit["line"]
    if not isinstance(line, int) or isinstance(line, bool) or not 1 <= line <= 2**53 - 1:
        raise EventValidationError("edit", line, "edit.line must be an integer >= 1")
    for side in ("removed", "inserted"):
        refs = edit[side]
        if not isinstance(refs, list):
            raise EventValidationError("edit", refs, f"edit.{side} must be a list")
        for ref in refs:
            if (
                not isinstance(ref, Mapping)
                or sorted(ref) != ["sha256", "size"]
                or not isinstance(ref["sha256"], str)
                or not _HEX64.match(ref["sha256"])
                or not isinstance(ref["size"], int)
                or isinstance(ref["size"], bool)
                or not 0 < ref["size"] <= 2**53 - 1
            ):
                raise EventValidationError(
                    "edit", ref, f"edit.{side} holds {{sha256, size}} of non-empty segments"
                )
    if not edit["removed"] and not edit["inserted"]:
        raise EventValidationError("edit", edit, "an edit removes or inserts at least one segment")


def mirror_edit(edit: Mapping[str, Any]) -> dict[str, Any]:
    """The edit that undoes `edit`."""
    return {
        "line": edit["line"],
        "removed": [dict(ref) for ref in edit["inserted"]],
        "inserted": [dict(ref) for ref in edit["removed"]],
    }


def blob_ids_of(edit: Mapping[str, Any]) -> list[str]:
    return [ref["sha256"] for ref in (*edit["removed"], *edit["inserted"])]


def apply_edit(
    segments: Sequence[bytes], edit: Mapping[str, Any], blobs: Mapping[str, bytes]
) -> list[bytes]:
    """`segments` with `edit` applied; refuses unless the removed segments are there as named."""
    start = edit["line"] - 1
    removed = edit["removed"]
    if start > len(segments) or start + len(removed) > len(segments):
        raise LineEditError(
            f"the edit at line {edit['line']} runs past the end of the file "
            f"({len(segments)} lines); the file changed since the event"
        )
    for offset, ref in enumerate(removed):
        found = segments[start + offset]
        if len(found) != ref["size"] or blob_id(found) != ref["sha256"]:
            raise LineEditError(
                f"line {start + offset + 1} is not the line the edit names "
                f"(sha256 {ref['sha256'][:12]}…); the file changed since the event"
            )
    inserted: list[bytes] = []
    for ref in edit["inserted"]:
        data = blobs.get(ref["sha256"])
        if data is None:
            raise LineEditError(f"blob {ref['sha256']} is not in the store; cannot restore it")
        if blob_id(data) != ref["sha256"] or len(data) != ref["size"]:
            raise LineEditError(f"blob {ref['sha256']} does not hash to its address")
        inserted.append(data)
    return [*segments[:start], *inserted, *segments[start + len(removed) :]]


def apply_edits(
    data: bytes, edits: Sequence[Mapping[str, Any]], blobs: Mapping[str, bytes]
) -> bytes:
    """Apply edits in order (each names lines of the file as the previous left it)."""
    segments = split_segments(data)
    for edit in edits:
        segments = apply_edit(segments, edit, blobs)
    return b"".join(segments)
