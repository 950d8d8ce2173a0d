"""The compact per-line records a scan keeps, and the Transcript holding them.

A record holds only what the graph, the detectors and the suggestion engine
need; the full line is re-read from its byte offset on request
(:func:`riff.transcript.reader.read_message`). Records are msgspec Structs
without GC tracking so that millions of them stay small and cheap to build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import msgspec

# Line types that carry a message of the conversation (as opposed to
# bookkeeping such as progress, attachments or snapshots).
CONVERSATION_TYPES = frozenset({"user", "assistant"})


class MessageRecord(msgspec.Struct, gc=False, frozen=True):
    """What riff keeps of one physical line of a transcript."""

    line: int
    """1-based physical line number."""
    offset: int
    """0-based byte offset of the line's first byte."""
    length: int
    """Bytes of the line, without its newline."""
    type: str | None
    uuid: str | None = None
    parent_uuid: str | None = None
    logical_parent_uuid: str | None = None
    subtype: str | None = None
    role: str | None = None
    timestamp: str | None = None
    """Canonical, order-comparable form (see riff.transcript.timestamps)."""
    is_sidechain: bool = False
    is_meta: bool = False
    is_conversation: bool = False
    """A user prompt or an assistant line: what a person would call the conversation."""
    tool_use_ids: tuple[str, ...] = ()
    tool_result_ids: tuple[str, ...] = ()
    tool_ref: str | None = None
    """For progress lines: the tool_use id they report on."""
    leaf_uuid: str | None = None
    """For summary / last-prompt lines: the leaf they name."""
    preview: str = ""

    @property
    def is_compact_boundary(self) -> bool:
        return self.subtype == "compact_boundary"


@dataclass(frozen=True)
class Fingerprint:
    """Identity of the bytes a scan read, checked again before any write."""

    size: int
    mtime_ns: int
    sha256: str


LINE_PROBLEM_KINDS = ("malformed_line", "truncated_line")


@dataclass(frozen=True)
class LineProblem:
    """A line that could not be read as a transcript line."""

    kind: str
    """"malformed_line" or "truncated_line"."""
    line: int
    offset: int
    length: int
    reason: str
    recovered: bool = False
    """True when the line's JSON was still read (e.g. after leading NUL bytes)."""


@dataclass(eq=False)
class Transcript:
    """One transcript file as read by :func:`riff.transcript.reader.read_transcript`."""

    path: Path
    records: list[MessageRecord]
    problems: list[LineProblem]
    fingerprint: Fingerprint
    line_count: int
    last_prompt_leaf: str | None = None
    """leafUuid of the last ``last-prompt`` line, if any."""
    session_id: str | None = None
    """The ``sessionId`` seen in the file, if any."""
    _messages: list[MessageRecord] | None = field(default=None, repr=False)

    @property
    def messages(self) -> list[MessageRecord]:
        """Records that carry a uuid, in file order."""
        if self._messages is None:
            self._messages = [r for r in self.records if r.uuid is not None]
        return self._messages

    def by_uuid(self) -> dict[str, MessageRecord]:
        """First record of every uuid (later duplicates are reported, not indexed)."""
        index: dict[str, MessageRecord] = {}
        for record in self.messages:
            assert record.uuid is not None
            index.setdefault(record.uuid, record)
        return index

    @property
    def uuids(self) -> set[str]:
        return {r.uuid for r in self.messages if r.uuid is not None}
