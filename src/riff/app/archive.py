"""Archive segments: old events sealed into gzip'd JSON Lines exports, with checkpoints.

A segment is `segment-<UTC time>-<id>.jsonl.gz` in the archive directory: the
gzip (mtime 0, no file name, so the bytes depend on the events only) of
riff's JSON Lines export (`write_jsonl_export`): a header line, each archived
event as exported, and a trailer with each session's head. `is_reverted` in a
segment is derived from the segment's own events.

For each session a segment covers, one `archive_checkpoints` row records the
range (first_seq..last_seq), the digest before it (`prev_digest`), the head,
the segment's file name and its SHA-256. The database refuses a checkpoint
whose head or prev_digest is not the stored digest of that event, and the
row can never change. Archiving copies: the live table keeps every row.

`verify_archive` replays each session end to end: its segments in order,
then the live events after its last checkpoint, which must link to the
checkpoint's head. A missing segment, a segment whose bytes or events differ,
or a checkpoint that does not match the live log are breaks.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, cast

import orjson

from riff.app.eventlog import EventLog
from riff.errors import Interrupted
from riff.events import GENESIS_DIGEST, ChainBreak, ChainVerifier, RepairEvent
from riff.events.errors import ExportFormatError
from riff.events.export import FORMAT_VERSION, check_event_row, write_jsonl_export
from riff.events.model import format_event_timestamp
from riff.events.status import reverted_ids_from_reverts
from riff.events.verify import SessionHead, ValidationResult

SEGMENT_PREFIX = "segment-"
SEGMENT_SUFFIX = ".jsonl.gz"
CHECKPOINTS_TABLE = "archive_checkpoints"
StopCheck = Callable[[], bool]


class ArchiveInterrupted(Interrupted):
    """Stopped before the segment was committed; nothing was written."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    session_id: str
    first_seq: int
    last_seq: int
    prev_digest: str
    head_digest: str
    event_count: int
    segment: str
    segment_sha256: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "prev_digest": self.prev_digest,
            "head_digest": self.head_digest,
            "event_count": self.event_count,
            "segment": self.segment,
            "segment_sha256": self.segment_sha256,
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class ArchiveResult:
    segment: Path | None = None
    segment_sha256: str | None = None
    checkpoints: list[Checkpoint] = field(default_factory=list)
    events_archived: int = 0
    cutoff: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": str(self.segment) if self.segment else None,
            "segment_sha256": self.segment_sha256,
            "events_archived": self.events_archived,
            "sessions": len(self.checkpoints),
            "cutoff": self.cutoff,
            "checkpoints": [c.to_dict() for c in self.checkpoints],
        }


# ---------------------------------------------------------------- checkpoints


def list_checkpoints(store: EventLog) -> list[Checkpoint]:
    """Every checkpoint, by session then last_seq."""
    rows = store.rows(CHECKPOINTS_TABLE)
    found = [Checkpoint(**{k: row[k] for k in Checkpoint.__dataclass_fields__}) for row in rows]
    return sorted(found, key=lambda c: (c.session_id, c.last_seq))


def last_checkpoints(store: EventLog) -> dict[str, Checkpoint]:
    last: dict[str, Checkpoint] = {}
    for cp in list_checkpoints(store):
        last[cp.session_id] = cp
    return last


# ---------------------------------------------------------------- writing


@dataclass(slots=True)
class _Range:
    session_id: str
    first_seq: int
    last_seq: int
    prev_digest: str
    head_digest: str


def _plan(
    store: EventLog, cutoff: str, should_stop: StopCheck | None
) -> tuple[list[_Range], set[str]]:
    """Per session, the events after its last checkpoint older than `cutoff` (a prefix)."""
    last = last_checkpoints(store)
    ranges: list[_Range] = []
    reverts: list[tuple[str, str | None]] = []
    for session_id in store.sessions():
        if should_stop is not None and should_stop():
            raise ArchiveInterrupted("stopped while planning the segment")
        cp = last.get(session_id)
        start = cp.last_seq + 1 if cp else 1
        prev = cp.head_digest if cp else GENESIS_DIGEST
        span: _Range | None = None
        for event in store.events(session_id, from_seq=start):
            if event.timestamp >= cutoff:
                break  # a session's archived part is always a prefix of its log
            if span is None:
                span = _Range(session_id, event.seq, event.seq, prev, event.event_digest)
            span.last_seq, span.head_digest = event.seq, event.event_digest
            if event.reverts_event_id is not None:
                reverts.append((event.event_id, event.reverts_event_id))
        if span is not None:
            ranges.append(span)
    return ranges, reverted_ids_from_reverts(reverts)


def _events_of(
    store: EventLog, ranges: list[_Range], should_stop: StopCheck | None
) -> Iterator[RepairEvent]:
    for span in ranges:
        if should_stop is not None and should_stop():
            raise ArchiveInterrupted("stopped while writing the segment")
        for event in store.events(span.session_id, from_seq=span.first_seq):
            if event.seq > span.last_seq:
                break
            yield event


def _open_gzip(raw: IO[bytes]) -> gzip.GzipFile:
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)


def archive_events(
    store: EventLog,
    archive_dir: Path,
    *,
    older_than_days: int = 90,
    now: datetime | None = None,
    should_stop: StopCheck | None = None,
) -> ArchiveResult:
    """Seal every not yet archived event older than `older_than_days` into one segment.

    The segment is written to a temp file, fsync'd and renamed; then the
    checkpoints are inserted in one statement. Interrupted (should_stop)
    before that, nothing is left behind; killed between the rename and the
    insert, an unreferenced segment remains, which verification reports and
    the next run ignores.
    """
    moment = now or datetime.now(UTC)
    cutoff = format_event_timestamp(moment - timedelta(days=older_than_days))
    result = ArchiveResult(cutoff=cutoff)
    ranges, reverted = _plan(store, cutoff, should_stop)
    if not ranges:
        return result
    archive_dir.mkdir(parents=True, exist_ok=True)
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{SEGMENT_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}{SEGMENT_SUFFIX}"
    final = archive_dir / name
    tmp = archive_dir / f".{name}.tmp-{os.getpid()}"
    try:
        with tmp.open("wb") as raw:
            with _open_gzip(raw) as out:
                summary = write_jsonl_export(
                    cast(IO[bytes], out),
                    _events_of(store, ranges, should_stop),
                    reverted_ids=reverted,
                    exported_at=moment,
                )
            raw.flush()
            os.fsync(raw.fileno())
        if should_stop is not None and should_stop():
            raise ArchiveInterrupted("stopped before committing the segment")
        digest = _sha256(tmp)
        os.replace(tmp, final)
        _fsync_dir(archive_dir)
    finally:
        tmp.unlink(missing_ok=True)
    created = format_event_timestamp(datetime.now(UTC))
    checkpoints = [
        Checkpoint(
            session_id=r.session_id,
            first_seq=r.first_seq,
            last_seq=r.last_seq,
            prev_digest=r.prev_digest,
            head_digest=r.head_digest,
            event_count=r.last_seq - r.first_seq + 1,
            segment=name,
            segment_sha256=digest,
            created_at=created,
        )
        for r in ranges
    ]
    rows = [c.to_dict() for c in checkpoints]
    try:
        store.add_rows(CHECKPOINTS_TABLE, rows, key=("session_id", "last_seq"))
    except BaseException:
        final.unlink(missing_ok=True)  # no checkpoint refers to it: not part of the archive
        raise
    result.segment, result.segment_sha256 = final, digest
    result.checkpoints = checkpoints
    result.events_archived = summary.total_events
    return result


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- reading


def read_segment(path: Path) -> Iterator[dict[str, Any]]:
    """The event rows of a segment, checked field by field; ExportFormatError if unreadable."""
    where = "line 1"
    try:
        with gzip.open(path, "rb") as fh:
            header = orjson.loads(fh.readline())
            if not isinstance(header, dict) or header.get("format_version") != FORMAT_VERSION:
                raise ExportFormatError(f"{path}: line 1: not a riff JSON Lines export header")
            pending: bytes | None = None
            number = 1
            for number, line in enumerate(fh, start=2):
                if pending is not None:
                    where = f"line {number - 1}"
                    yield check_event_row(path, where, orjson.loads(pending))
                pending = line
            trailer = orjson.loads(pending) if pending is not None else None
            if not isinstance(trailer, dict) or set(trailer) != {"sessions", "metadata"}:
                raise ExportFormatError(f"{path}: line {number}: no trailer line (truncated?)")
    except (OSError, EOFError, gzip.BadGzipFile, orjson.JSONDecodeError) as exc:
        raise ExportFormatError(f"{path}: {where}: cannot read the segment ({exc})") from None


# ---------------------------------------------------------------- verifying


@dataclass(slots=True)
class ArchiveVerification:
    result: ValidationResult
    segments_checked: int = 0
    checkpoints_checked: int = 0
    unreferenced: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_dict(self) -> dict[str, Any]:
        doc = self.result.to_dict()
        doc["segments_checked"] = self.segments_checked
        doc["checkpoints_checked"] = self.checkpoints_checked
        doc["unreferenced_segments"] = self.unreferenced
        return doc


def _segment_breaks(path: Path, checkpoints: list[Checkpoint]) -> tuple[list[ChainBreak], bool]:
    """Breaks of a segment's file as a whole; the bool says whether its events can be read."""
    first = checkpoints[0]
    if not path.is_file():
        return [
            ChainBreak(
                cp.session_id,
                cp.first_seq,
                None,
                "seq_gap",
                f"archive segment {cp.segment} is missing: seq {cp.first_seq}..{cp.last_seq} "
                "cannot be checked",
            )
            for cp in checkpoints
        ], False
    actual = _sha256(path)
    if actual != first.segment_sha256:
        return [
            ChainBreak(
                first.session_id,
                None,
                None,
                "digest_mismatch",
                f"archive segment {first.segment} hashes to {actual[:12]}…, its checkpoint "
                f"recorded {first.segment_sha256[:12]}…: the file was altered",
            )
        ], True
    return [], True


def verify_archive(
    store: EventLog,
    archive_dir: Path,
    *,
    should_stop: StopCheck | None = None,
) -> ArchiveVerification:
    """Verify each archived session end to end: its segments, then its live events.

    Sessions without a checkpoint are left to `verify_database`. Memory holds
    the archived sessions' folds (a few hundred bytes per archived event).
    """
    checkpoints = list_checkpoints(store)
    outcome = ArchiveVerification(ValidationResult())
    result = outcome.result
    by_segment: dict[str, list[Checkpoint]] = {}
    for cp in sorted(checkpoints, key=lambda c: (c.created_at, c.segment, c.session_id)):
        by_segment.setdefault(cp.segment, []).append(cp)
    expected: dict[tuple[str, str], Checkpoint] = {
        (cp.segment, cp.session_id): cp for cp in checkpoints
    }
    verifier = ChainVerifier()
    seen: dict[tuple[str, str], list[int]] = {}
    for segment, cps in by_segment.items():
        if should_stop is not None and should_stop():
            raise ArchiveInterrupted("stopped while verifying the archive")
        path = archive_dir / segment
        breaks, readable = _segment_breaks(path, cps)
        result.breaks.extend(breaks)
        outcome.segments_checked += 1
        if not readable:
            for cp in cps:  # continue each chain from the checkpoint, not from seq 0
                fold = verifier.fold(cp.session_id)
                if fold.head_seq < cp.last_seq:
                    fold.head_seq, fold.head_digest = cp.last_seq, cp.head_digest
            continue
        try:
            for row in read_segment(path):
                key = (segment, row["session_id"])
                if key not in expected:
                    result.breaks.append(
                        ChainBreak(
                            row["session_id"],
                            row["seq"],
                            row["event_id"],
                            "seq_repeat",
                            f"segment {segment} holds an event no checkpoint covers",
                        )
                    )
                    continue
                span = seen.setdefault(key, [row["seq"], row["seq"], 0])
                span[1] = row["seq"]
                span[2] += 1
                verifier.feed(row)
                fold = verifier.fold(row["session_id"])
                if (
                    row["seq"] == expected[key].last_seq
                    and fold.head_digest != expected[key].head_digest
                ):
                    result.breaks.append(
                        ChainBreak(
                            row["session_id"],
                            row["seq"],
                            row["event_id"],
                            "head_mismatch",
                            f"segment {segment} ends at {fold.head_digest[:12]}…, its "
                            f"checkpoint says {expected[key].head_digest[:12]}…",
                        )
                    )
        except ExportFormatError as exc:
            result.breaks.append(
                ChainBreak(
                    cps[0].session_id,
                    None,
                    None,
                    "digest_mismatch",
                    f"archive segment {segment} is unreadable: {exc}",
                )
            )
    for cp in checkpoints:
        outcome.checkpoints_checked += 1
        found = seen.get((cp.segment, cp.session_id))
        if found is not None and (found[0], found[1], found[2]) != (
            cp.first_seq,
            cp.last_seq,
            cp.event_count,
        ):
            result.breaks.append(
                ChainBreak(
                    cp.session_id,
                    cp.first_seq,
                    None,
                    "seq_gap",
                    f"segment {cp.segment} holds seq {found[0]}..{found[1]} ({found[2]} "
                    f"events), its checkpoint says {cp.first_seq}..{cp.last_seq}",
                )
            )
    # The live remainder of each archived session continues its last checkpoint.
    archived_sessions = sorted({cp.session_id for cp in checkpoints})
    last = last_checkpoints(store)
    for session_id in archived_sessions:
        cp = last[session_id]
        live_at = store.events(session_id, from_seq=cp.last_seq)
        anchor = next(live_at, None)
        if anchor is None or anchor.event_digest != cp.head_digest:
            result.breaks.append(
                ChainBreak(
                    session_id,
                    cp.last_seq,
                    anchor.event_id if anchor else None,
                    "head_mismatch",
                    f"checkpoint head {cp.head_digest[:12]}… is not the live event at seq "
                    f"{cp.last_seq}",
                )
            )
        fold = verifier.fold(session_id)
        if fold.head_seq < cp.last_seq:
            # The segment could not be read: continue the chain from the checkpoint.
            fold.head_seq, fold.head_digest = cp.last_seq, cp.head_digest
        for event in live_at:
            verifier.feed_event(event)
    final = verifier.finish()
    result.events_checked = final.events_checked
    result.sessions_checked = len(archived_sessions)
    result.breaks.extend(final.breaks)
    result.heads = {sid: SessionHead(h.seq, h.digest) for sid, h in final.heads.items()}
    result.reverted_ids = final.reverted_ids
    referenced = set(by_segment)
    if archive_dir.is_dir():
        outcome.unreferenced = sorted(
            p.name
            for p in archive_dir.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}")
            if p.name not in referenced
        )
    return outcome


__all__ = [
    "ArchiveInterrupted",
    "ArchiveResult",
    "ArchiveVerification",
    "Checkpoint",
    "archive_events",
    "last_checkpoints",
    "list_checkpoints",
    "read_segment",
    "verify_archive",
]
